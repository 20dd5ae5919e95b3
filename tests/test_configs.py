# Copyright (c) mmw2s contributors. All rights reserved.
"""Every training config under configs/ loads, builds its model without
weights, and takes training steps on generated data of its input size."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS
from mmpretrain.structures import DataSample

import mmw2s  # noqa: F401
from conftest import REPO_ROOT

TRAINING_CONFIGS = sorted(
    path
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                          recursive=True)
    if '_base_' not in path and osp.sep + 'pipeline' + osp.sep not in path)


def test_configs_are_found():
    assert TRAINING_CONFIGS


@pytest.mark.parametrize(
    'path', TRAINING_CONFIGS,
    ids=[osp.relpath(p, REPO_ROOT) for p in TRAINING_CONFIGS])
def test_config_builds_and_trains_two_iterations(path):
    cfg = Config.fromfile(path)
    assert 'mmcls::' not in cfg.pretty_text
    cfg.model.pop('teacher_ckpt', None)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(cfg.model)
    num_classes = cfg.model.data_preprocessor.num_classes
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    for step in range(2):
        samples = [
            DataSample().set_gt_label(i % num_classes) for i in range(4)
        ]
        data = model.data_preprocessor(
            dict(
                inputs=[
                    torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
                    for _ in samples
                ],
                data_samples=samples), True)
        losses = model(**data, mode='loss')
        loss = sum(value for key, value in losses.items() if 'loss' in key)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
