# Copyright (c) mmw2s contributors. All rights reserved.
import pytest

import mmw2s  # noqa: F401
from mmw2s.engine.hooks import WarmupFactorHook


@pytest.mark.parametrize('ratio,max_epochs,expected', [
    (0.3, 10, [0, 1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1, 1]),
    (0.25, 10, [0, 0.4, 1, 1]),
    (0.3, 240, {
        0: 0,
        36: 0.5,
        71: 71 / 72,
        72: 1,
        239: 1
    }),
    (0.0, 5, [1, 1]),
])
def test_epoch_schedule(ratio, max_epochs, expected):
    hook = WarmupFactorHook(schedule='epoch', ratio=ratio)
    items = expected.items() if isinstance(expected,
                                           dict) else enumerate(expected)
    for epoch, factor in items:
        assert hook.epoch_factor(epoch, max_epochs) == pytest.approx(factor)


def test_iter_schedule():
    hook = WarmupFactorHook(schedule='iter', ratio=0.2)
    assert hook.iter_factor(0, 100) == 0
    assert hook.iter_factor(10, 100) == pytest.approx(0.5)
    assert hook.iter_factor(20, 100) == 1
    assert hook.iter_factor(99, 100) == 1


@pytest.mark.parametrize('kwargs,message', [
    (dict(schedule='cosine'), 'schedule must be one of'),
    (dict(ratio=1.5), r'ratio must be in \[0, 1\], got 1.5'),
    (dict(schedule='constant', value=-1), 'value must be in'),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupFactorHook(**kwargs)
