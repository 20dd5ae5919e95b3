# Copyright (c) mmw2s contributors. All rights reserved.
import os.path as osp

import mmpretrain
import pytest
from conftest import TEST_CONFIGS

from mmw2s.utils import load_config


def test_package_references_resolve_to_the_installed_config():
    cfg = load_config('mmpretrain::resnet/resnet18_8xb16_cifar10.py')
    assert cfg.filename == osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'resnet',
        'resnet18_8xb16_cifar10.py')
    assert cfg.model.backbone.type == 'ResNet_CIFAR'
    assert cfg.model.backbone.depth == 18


def test_files_load_as_config_files():
    path = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py')
    assert load_config(path).filename == path
    with pytest.raises(FileNotFoundError):
        load_config(osp.join(TEST_CONFIGS, 'missing.py'))
