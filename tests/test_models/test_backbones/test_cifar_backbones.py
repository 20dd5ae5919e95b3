# Copyright (c) mmw2s contributors. All rights reserved.
"""Output shapes and parameter counts of the CIFAR backbones against the
numbers published for them (CRD, Tian et al. 2020, Table 1-2), counted with
a 100-class linear head and rounded as published."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import mmw2s  # noqa: F401

# name: (config, published parameters in millions, output (C, H, W))
PUBLISHED = {
    'resnet8': (dict(type='CIFARResNet', arch='resnet8'), 0.08, (64, 8, 8)),
    'resnet20': (dict(type='CIFARResNet', arch='resnet20'), 0.28, (64, 8, 8)),
    'resnet32': (dict(type='CIFARResNet', arch='resnet32'), 0.47, (64, 8, 8)),
    'resnet44': (dict(type='CIFARResNet', arch='resnet44'), 0.67, (64, 8, 8)),
    'resnet56': (dict(type='CIFARResNet', arch='resnet56'), 0.86, (64, 8, 8)),
    'resnet110': (dict(type='CIFARResNet',
                       arch='resnet110'), 1.74, (64, 8, 8)),
    'resnet8x4': (dict(type='CIFARResNet',
                       arch='resnet8x4'), 1.23, (256, 8, 8)),
    'resnet32x4': (dict(type='CIFARResNet',
                        arch='resnet32x4'), 7.43, (256, 8, 8)),
    'wrn_16_2': (dict(type='WideResNet', depth=16,
                      widen_factor=2), 0.70, (128, 8, 8)),
    'wrn_40_1': (dict(type='WideResNet', depth=40,
                      widen_factor=1), 0.57, (64, 8, 8)),
    'wrn_40_2': (dict(type='WideResNet', depth=40,
                      widen_factor=2), 2.26, (128, 8, 8)),
    'vgg8': (dict(type='CIFARVGG', depth=8), 3.96, (512, 2, 2)),
    'vgg13': (dict(type='CIFARVGG', depth=13), 9.46, (512, 2, 2)),
    'ShuffleNetV1': (dict(type='CIFARShuffleNetV1',
                          groups=3), 0.95, (960, 4, 4)),
    'ShuffleNetV2': (dict(type='CIFARShuffleNetV2',
                          widen_factor=1.0), 1.36, (1024, 4, 4)),
    'MobileNetV2': (dict(type='CIFARMobileNetV2',
                         widen_factor=0.5), 0.81, (1280, 4, 4)),
}
OTHERS = [
    dict(type='CIFARResNet', arch='resnet14'),
    dict(type='CIFARVGG', depth=11),
    dict(type='CIFARVGG', depth=16),
    dict(type='CIFARVGG', depth=19),
]


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


@pytest.mark.parametrize('name', sorted(PUBLISHED))
def test_parameter_count_and_output_shape(name):
    cfg, published, shape = PUBLISHED[name]
    backbone = build(cfg)
    count = sum(p.numel() for p in backbone.parameters())
    count += backbone.out_channels * 100 + 100  # the linear head
    assert round(count / 1e6, 2) == pytest.approx(published, abs=0.011)
    (features, ) = backbone(torch.randn(2, 3, 32, 32))
    assert tuple(features.shape) == (2, *shape)


@pytest.mark.parametrize('cfg', OTHERS, ids=lambda cfg: str(cfg))
def test_other_depths_build_and_run(cfg):
    backbone = build(cfg)
    (features, ) = backbone(torch.randn(2, 3, 32, 32))
    assert features.shape[:2] == (2, backbone.out_channels)


def test_resnet_depth_follows_the_arch():
    blocks = {
        arch: len(build(dict(type='CIFARResNet', arch=arch)).layers)
        for arch in ('resnet8', 'resnet20', 'resnet110')
    }
    assert blocks == {'resnet8': 3, 'resnet20': 9, 'resnet110': 54}


@pytest.mark.parametrize('cfg,message', [
    (dict(type='CIFARResNet', arch='resnet19'), 'arch must be one of'),
    (dict(type='WideResNet', depth=15), 'depth must be 6n'),
    (dict(type='CIFARVGG', depth=12), 'depth must be one of'),
    (dict(type='CIFARShuffleNetV1', groups=5), 'groups must be one of'),
    (dict(type='CIFARShuffleNetV2', widen_factor=0.7), 'widen_factor'),
])
def test_invalid_arch_names_the_choices(cfg, message):
    with pytest.raises((KeyError, ValueError), match=message):
        build(cfg)


def test_resnet12_of_few_shot_learning():
    backbone = build(dict(type='ResNet12'))
    count = sum(p.numel() for p in backbone.parameters())
    assert round(count / 1e6, 1) == 12.4
    (features, ) = backbone(torch.randn(2, 3, 84, 84))
    assert tuple(features.shape) == (2, 640, 5, 5)


def test_preact_resnets_of_noisy_label_learning():
    for depth, published in ((18, 11.2), (34, 21.3)):
        backbone = build(dict(type='PreActResNet', depth=depth))
        count = sum(p.numel() for p in backbone.parameters()) + 512 * 10 + 10
        assert round(count / 1e6, 1) == published
