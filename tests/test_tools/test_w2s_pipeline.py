# Copyright (c) mmw2s contributors. All rights reserved.
"""A miniature run of the main job on generated IDX files."""
import json
import os.path as osp
import re

import pytest
from conftest import REPO_ROOT, python_tool, run_tool
from idx_helpers import write_fashion_like
from PIL import Image

CONFIG = osp.join(REPO_ROOT, 'configs', 'pipeline',
                  'w2s_lenet5_resnet18-c16_fashion-mnist.py')
MINIATURE = [
    '--cfg-options', 'data.weak_samples=60', 'data.strong_samples=80',
    'weak_epochs=1', 'strong_epochs=1', 'batch_size=20'
]
RUNS = ('weak', 'ceiling', 'kd', 'augconf', 'adaptconf', 'logconf')


@pytest.fixture(scope='module')
def miniature_run(tmp_path_factory):
    data_root = write_fashion_like(str(tmp_path_factory.mktemp('idx')))
    work_dir = str(tmp_path_factory.mktemp('pipeline'))
    command = python_tool('w2s_pipeline.py') + [
        CONFIG, '--work-dir', work_dir, '--data-root', data_root
    ] + MINIATURE
    result = run_tool(command, cwd=REPO_ROOT)
    return work_dir, data_root, command, result.stdout


def test_report_lists_every_run_with_sane_numbers(miniature_run):
    work_dir, _, _, stdout = miniature_run
    report = open(osp.join(work_dir, 'report.md')).read()
    results = {}
    for run in RUNS:
        row = re.search(rf'^\| {run} \| ([\d.]+) \| (\S+) \|$', report,
                        re.MULTILINE)
        assert row, f'no row for {run}'
        accuracy = float(row.group(1))
        assert 0.0 <= accuracy <= 100.0
        saved = json.load(
            open(osp.join(work_dir, 'seed_0', run, 'result.json')))
        assert accuracy == pytest.approx(saved['accuracy'], abs=0.005)
        results[run] = (accuracy, row.group(2))
    weak, ceiling = results['weak'][0], results['ceiling'][0]
    for run in RUNS[2:]:
        expected = (results[run][0] - weak) / (ceiling - weak)
        assert float(results[run][1]) == pytest.approx(expected, abs=0.01)
    assert '| weak |' in stdout
    for picture in ('accuracy.png', 'curves.png'):
        with Image.open(osp.join(work_dir, picture)) as image:
            assert image.size[0] > 300


def test_rerun_skips_finished_stages(miniature_run):
    work_dir, _, command, _ = miniature_run
    result_file = osp.join(work_dir, 'seed_0', 'kd', 'result.json')
    before = open(result_file).read()
    checkpoints = osp.join(work_dir, 'seed_0', 'kd', 'last_checkpoint')
    modified = osp.getmtime(checkpoints)
    run_tool(command, cwd=REPO_ROOT)
    assert open(result_file).read() == before
    assert osp.getmtime(checkpoints) == modified


def test_weak_labels_were_written_for_half_b(miniature_run):
    import torch
    work_dir = miniature_run[0]
    logits = torch.load(
        osp.join(work_dir, 'seed_0', 'weak_labels', 'weak_logits.pth'),
        weights_only=True)['weak_logits']
    assert logits.shape == (80, 10)
    assert torch.isfinite(logits).all()
