# Copyright (c) mmw2s contributors. All rights reserved.
"""The benchmark's CI mode runs and prints every ratio (times are not
asserted: the machine is noisy)."""
import re

from conftest import REPO_ROOT, python_tool, run_tool

RATIOS = ('step ratio w2s / student',
          'limit 1 + t(teacher fwd) / t(student step)',
          'ratio / limit (goal <= 1.03)',
          'offline step / student (goal <= 1.03)',
          'teacher overhead / teacher parameter bytes')


def test_benchmark_ci_mode_prints_every_ratio(tmp_path):
    out = tmp_path / 'benchmark.md'
    result = run_tool(
        python_tool('analysis/benchmark_w2s.py') +
        ['--ci', '--out', str(out)],
        cwd=REPO_ROOT)
    report = result.stdout
    assert out.read_text().strip() == report.strip()
    for name in RATIOS:
        match = re.search(rf'{re.escape(name)}:? \|? ?([\d.]+)', report)
        assert match, name
        assert float(match.group(1)) > 0
    loss_rows = re.findall(r'^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) '
                           r'\| ([\d.]+) \| ([\d.]+) \|$', report, re.M)
    assert [row[0] for row in loss_rows] == ['10', '100']
    assert all(float(value) > 0 for row in loss_rows for value in row[1:])
