# Copyright (c) mmw2s contributors. All rights reserved.
"""The benchmark's CI mode runs and prints every ratio (times are not
asserted: the machine is noisy)."""
import re

import pytest
from conftest import REPO_ROOT, python_tool, run_tool

RATIOS = ('step ratio w2s / student',
          'limit 1 + t(teacher fwd) / t(student step)',
          'ratio / limit (goal <= 1.03)',
          'offline step / student (goal <= 1.03)',
          'teacher overhead / teacher parameter bytes')


def _rounding(quotient: float,
              numerator: float,
              denominator: float,
              half_step: float,
              printed_half_step: float = 0.005) -> float:
    """How far a printed quotient (to ``printed_half_step``, half its last
    digit) may be from the quotient of its printed columns (each to
    ``half_step``)."""
    return printed_half_step + quotient * half_step * (1 / numerator +
                                                       1 / denominator)


def _value(report: str, name: str) -> float:
    match = re.search(rf'{re.escape(name)}:? \|? ?([\d.]+)', report)
    assert match, name
    return float(match.group(1))


def test_benchmark_ci_mode_prints_every_ratio_from_its_own_columns(
        tmp_path):
    out = tmp_path / 'benchmark.md'
    result = run_tool(
        python_tool('analysis/benchmark_w2s.py') +
        ['--ci', '--out', str(out)],
        cwd=REPO_ROOT)
    report = result.stdout
    assert out.read_text().strip() == report.strip()
    student = _value(report, 'student step ms')
    w2s = _value(report, 'weak-to-strong step ms')
    teacher = _value(report, 'teacher forward ms')
    ratio, limit = w2s / student, 1 + teacher / student
    # each ratio is its columns' quotient (to the printed rounding)
    assert _value(report, RATIOS[0]) == pytest.approx(
        ratio, abs=_rounding(ratio, w2s, student, 0.05, 5e-4))
    assert _value(report, RATIOS[1]) == pytest.approx(
        limit, abs=_rounding(limit, teacher, student, 0.05, 5e-4))
    assert _value(report, RATIOS[2]) == pytest.approx(
        ratio / limit, abs=2 * _rounding(ratio, w2s, student, 0.05, 5e-4))
    assert _value(report, RATIOS[3]) > 0
    overhead = _value(report, 'teacher overhead')
    assert overhead == pytest.approx(
        _value(report, 'weak-to-strong') - _value(report, 'student alone'),
        abs=0.15)
    parameters = _value(report, 'teacher parameters')
    assert _value(report, RATIOS[4]) == pytest.approx(
        overhead / parameters,
        abs=_rounding(overhead / parameters, overhead, parameters, 0.05))
    loss_rows = re.findall(r'^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| '
                           r'([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$', report,
                           re.M)
    assert [row[0] for row in loss_rows] == ['10', '100']
    for row in loss_rows:
        adaptconf, kl, naive, per_kl, naive_per = map(float, row[1:])
        assert per_kl == pytest.approx(
            adaptconf / kl,
            abs=_rounding(adaptconf / kl, adaptconf, kl, 5e-4))
        assert naive_per == pytest.approx(
            naive / adaptconf,
            abs=_rounding(naive / adaptconf, naive, adaptconf, 5e-4))
