# Copyright (c) mmw2s contributors. All rights reserved.
import pytest

from mmw2s.evaluation import performance_gap_recovered


def test_pgr_formula():
    assert performance_gap_recovered(80.0, 70.0, 90.0) == pytest.approx(0.5)
    assert performance_gap_recovered(90.0, 70.0, 90.0) == pytest.approx(1.0)
    assert performance_gap_recovered(70.0, 70.0, 90.0) == pytest.approx(0.0)
    assert performance_gap_recovered(65.0, 70.0, 90.0) == pytest.approx(-0.25)
    assert performance_gap_recovered(95.0, 70.0, 90.0) == pytest.approx(1.25)


def test_pgr_without_a_gap_is_an_error():
    with pytest.raises(ValueError, match='undefined'):
        performance_gap_recovered(80.0, 75.0, 75.0)
