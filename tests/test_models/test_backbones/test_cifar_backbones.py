# Copyright (c) mmw2s contributors. All rights reserved.
"""Output shapes and parameter counts of the CIFAR backbones: those of CRD's
models (Tian et al. 2020, HobbitLong/RepDistiller ``models/``) as each
backbone's docstring states them, without and with a 100-class linear head
(rounded, the latter are CRD's Table 1-2 numbers)."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import mmw2s  # noqa: F401

# name: (config, parameters, with a 100-class head, output (C, H, W))
CRD = {
    'resnet8': (dict(type='CIFARResNet',
                     arch='resnet8'), 77392, 83892, (64, 8, 8)),
    'resnet14': (dict(type='CIFARResNet',
                      arch='resnet14'), 174608, 181108, (64, 8, 8)),
    'resnet20': (dict(type='CIFARResNet',
                      arch='resnet20'), 271824, 278324, (64, 8, 8)),
    'resnet32': (dict(type='CIFARResNet',
                      arch='resnet32'), 466256, 472756, (64, 8, 8)),
    'resnet44': (dict(type='CIFARResNet',
                      arch='resnet44'), 660688, 667188, (64, 8, 8)),
    'resnet56': (dict(type='CIFARResNet',
                      arch='resnet56'), 855120, 861620, (64, 8, 8)),
    'resnet110': (dict(type='CIFARResNet',
                       arch='resnet110'), 1730064, 1736564, (64, 8, 8)),
    'resnet8x4': (dict(type='CIFARResNet',
                       arch='resnet8x4'), 1207840, 1233540, (256, 8, 8)),
    'resnet32x4': (dict(type='CIFARResNet',
                        arch='resnet32x4'), 7408160, 7433860, (256, 8, 8)),
    'wrn_16_1': (dict(type='WideResNet', depth=16,
                      widen_factor=1), 174416, 180916, (64, 8, 8)),
    'wrn_16_2': (dict(type='WideResNet', depth=16,
                      widen_factor=2), 690384, 703284, (128, 8, 8)),
    'wrn_40_1': (dict(type='WideResNet', depth=40,
                      widen_factor=1), 563280, 569780, (64, 8, 8)),
    'wrn_40_2': (dict(type='WideResNet', depth=40,
                      widen_factor=2), 2242256, 2255156, (128, 8, 8)),
    'vgg8': (dict(type='CIFARVGG', depth=8), 3913728, 3965028, (512, 4, 4)),
    'vgg11': (dict(type='CIFARVGG',
                   depth=11), 9225984, 9277284, (512, 4, 4)),
    'vgg13': (dict(type='CIFARVGG',
                   depth=13), 9410880, 9462180, (512, 4, 4)),
    'vgg16': (dict(type='CIFARVGG',
                   depth=16), 14723136, 14774436, (512, 4, 4)),
    'vgg19': (dict(type='CIFARVGG',
                   depth=19), 20035392, 20086692, (512, 4, 4)),
    'ShuffleV1': (dict(type='CIFARShuffleNetV1',
                       groups=3), 853158, 949258, (960, 4, 4)),
    'ShuffleV2': (dict(type='CIFARShuffleNetV2',
                       widen_factor=1.0), 1253028, 1355528, (1024, 4, 4)),
    'MobileNetV2': (dict(type='CIFARMobileNetV2',
                         widen_factor=0.5), 684736, 812836, (1280, 2, 2)),
}
# as CRD's tables print them (millions, with a 100-class head; rounded or
# cut: VGG8's 3.965M is printed 3.96)
CRD_TABLES = {
    'resnet8': 0.08, 'resnet20': 0.28, 'resnet32': 0.47, 'resnet44': 0.67,
    'resnet56': 0.86, 'resnet110': 1.74, 'resnet8x4': 1.23,
    'resnet32x4': 7.43, 'wrn_16_2': 0.70, 'wrn_40_1': 0.57, 'wrn_40_2': 2.26,
    'vgg8': 3.96, 'vgg13': 9.46, 'ShuffleV1': 0.95, 'ShuffleV2': 1.36,
    'MobileNetV2': 0.81
}


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


@pytest.mark.parametrize('name', sorted(CRD))
def test_parameter_count_and_output_shape_are_crds(name):
    cfg, params, with_head, shape = CRD[name]
    backbone = build(cfg)
    count = sum(p.numel() for p in backbone.parameters())
    assert count == params
    assert count + backbone.out_channels * 100 + 100 == with_head
    if name in CRD_TABLES:
        assert with_head / 1e6 == pytest.approx(CRD_TABLES[name], abs=0.01)
    (features, ) = backbone(torch.randn(2, 3, 32, 32))
    assert tuple(features.shape) == (2, *shape)


def test_shufflenet_v1_block_rectifies_the_depthwise_output():
    """CRD's block: ReLU after the depthwise BN; the first block (after the
    24-channel stem) has an ungrouped 1x1, so its shuffle is the identity."""
    backbone = build(dict(type='CIFARShuffleNetV1', groups=3)).eval()
    first = backbone.layers[0]
    seen = {}
    first.conv3.register_forward_hook(
        lambda module, inputs, output: seen.update(conv3_input=inputs[0]))
    x = torch.randn(2, 24, 32, 32)
    first(x)
    expected = F.relu(first.bn2(first.conv2(F.relu(first.bn1(
        first.conv1(x))))))
    torch.testing.assert_close(seen['conv3_input'], expected)


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


def their_bottle_resnet_parameters(stage_blocks, channels) -> int:
    """Weights of Guo et al.'s resnetN_bottle (few_shot_leaerning/models/
    resnet.py at c020783, lines 18-56 and 99-136): per block three 3x3
    convolutions and BNs; the first block of a stage adds a 1x1 projection
    and its BN."""
    total, previous = 0, 3
    for count, width in zip(stage_blocks, channels):
        for index in range(count):
            first = previous if index == 0 else width
            total += 9 * (first * width + 2 * width * width) + 3 * 2 * width
            if index == 0:
                total += first * width + 2 * width
        previous = width
    return total


@pytest.mark.parametrize('depth,stage_blocks', [(12, (1, 1, 1, 1)),
                                                (18, (1, 2, 2, 1)),
                                                (36, (2, 3, 5, 2))])
def test_few_shot_resnets_of_guo_et_al(depth, stage_blocks):
    channels = (64, 128, 256, 512)
    backbone = build(dict(type='FewShotResNet', depth=depth))
    assert sum(p.numel() for p in backbone.parameters()) == \
        their_bottle_resnet_parameters(stage_blocks, channels)
    pooled = [
        isinstance(block.pool, torch.nn.MaxPool2d) for block in backbone.layers
    ]
    assert pooled == [
        index == 0 for count in stage_blocks for index in range(count)
    ]
    (features, ) = backbone(torch.randn(2, 3, 80, 80))
    assert tuple(features.shape) == (2, 512, 5, 5)


def test_few_shot_resnet_names_its_depths():
    with pytest.raises(KeyError, match=r'depth=50 is not one of \[12, 18'):
        build(dict(type='FewShotResNet', depth=50))
    with pytest.raises(ValueError, match='one count for each of the 4'):
        build(dict(type='ResNet12', stage_blocks=(1, 1)))


def test_preact_resnets_of_noisy_label_learning():
    for depth, published in ((18, 11.2), (34, 21.3)):
        backbone = build(dict(type='PreActResNet', depth=depth))
        count = sum(p.numel() for p in backbone.parameters()) + 512 * 10 + 10
        assert round(count / 1e6, 1) == published
