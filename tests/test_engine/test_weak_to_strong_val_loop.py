# Copyright (c) mmw2s contributors. All rights reserved.
"""WeakToStrongValLoop: the teacher evaluated once, PGR only over a gap."""
import os.path as osp

import pytest
from conftest import TEST_CONFIGS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmw2s  # noqa: F401
from mmw2s.evaluation import performance_gap_recovered


@pytest.fixture(autouse=True)
def _default_scope_restored():
    """A Runner sets the process's default scope (mmpretrain here); give the
    scope back, so later tests build from their own registries."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


def _runner(tmp_path, image_root, name, **val_cfg) -> Runner:
    cfg = Config.fromfile(osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py'))
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = image_root
    cfg.val_cfg.update(val_cfg)
    cfg.work_dir = str(tmp_path / name)
    cfg.experiment_name = name
    return Runner.from_cfg(cfg)


def test_teacher_is_evaluated_once_and_pgr_follows_the_metrics(
        tmp_path, image_root):
    runner = _runner(tmp_path, image_root, 'once', ceiling_acc=99.0)
    teacher = runner.model.teacher
    calls = []
    forward = teacher.forward

    def counted(*args, **kwargs):
        calls.append(kwargs.get('mode'))
        return forward(*args, **kwargs)

    teacher.forward = counted
    first = runner.val()
    teacher_batches = len(calls)
    assert teacher_batches == len(runner.val_dataloader)
    second = runner.val()
    assert len(calls) == teacher_batches  # the frozen teacher: not again
    for metrics in (first, second):
        weak = metrics['teacher.accuracy/top1']
        assert metrics['pgr'] == pytest.approx(
            performance_gap_recovered(metrics['accuracy/top1'], weak, 99.0))
    assert second['teacher.accuracy/top1'] == first['teacher.accuracy/top1']


@pytest.mark.parametrize('ceiling', [50.0, 40.0])
def test_no_gap_gives_no_pgr_and_a_warning_not_an_error(
        tmp_path, image_root, capsys, ceiling):
    runner = _runner(
        tmp_path,
        image_root,
        f'no_gap_{ceiling}',
        weak_acc=50.0,
        ceiling_acc=ceiling)
    metrics = runner.val()
    assert 'pgr' not in metrics and 'accuracy/top1' in metrics
    assert f'WARNING - No PGR: the ceiling accuracy ({ceiling}) is not ' \
        'above the weak accuracy (50.0)' in capsys.readouterr().out


@pytest.mark.parametrize('key,value', [('ceiling_acc', 0.9),
                                       ('weak_acc', 120.0)])
def test_accuracies_must_be_percentages(tmp_path, image_root, key, value):
    runner = _runner(tmp_path, image_root, f'bad_{key}', **{key: value})
    with pytest.raises(
            ValueError, match=f'{key} is {value}; expected a '
            'percentage'):
        runner.val()
