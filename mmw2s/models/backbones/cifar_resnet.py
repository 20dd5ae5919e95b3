# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


def conv_bn(in_channels: int,
            out_channels: int,
            stride: int = 1,
            kernel_size: int = 3) -> nn.Sequential:
    """Convolution (no bias) followed by BatchNorm."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 projection)
    shortcut."""

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(in_channels, out_channels, stride)
        self.conv2 = conv_bn(out_channels, out_channels)
        self.shortcut = nn.Identity() if (
            stride == 1 and in_channels == out_channels) else conv_bn(
                in_channels, out_channels, stride, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(self.relu(self.conv1(x)))
        return self.relu(out + self.shortcut(x))


@MODELS.register_module()
class CIFARResNet(BaseModule):
    """The CIFAR ResNets of the knowledge-distillation literature (He et
    al., 2016), as CRD's (Tian et al., 2020; RepDistiller
    ``models/resnet.py``), ``resnetNxK`` widths included.

    ``arch``: ``resnet{8,14,20,32,44,56,110}`` (16-32-64 channels, (depth-2)/6
    basic blocks a stage) or ``resnet8x4`` / ``resnet32x4`` (32-channel stem,
    64-128-256 channels); a 32x32 image gives an 8x8 map of 64 (256)
    channels. Parameters, and with a 100-class linear head, as CRD's:
    resnet8 77,392 (83,892), resnet14 174,608 (181,108), resnet20 271,824
    (278,324), resnet32 466,256 (472,756), resnet44 660,688 (667,188),
    resnet56 855,120 (861,620), resnet110 1,730,064 (1,736,564), resnet8x4
    1,207,840 (1,233,540), resnet32x4 7,408,160 (7,433,860).

    Args:
        arch (str): One of :attr:`arch_settings`. Defaults to ``'resnet20'``.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The last stage's feature map.
    """

    arch_settings = {
        **{
            f'resnet{depth}': (depth, 16, (16, 32, 64))
            for depth in (8, 14, 20, 32, 44, 56, 110)
        },
        'resnet8x4': (8, 32, (64, 128, 256)),
        'resnet32x4': (32, 32, (64, 128, 256)),
    }

    def __init__(
        self,
        arch: str = 'resnet20',
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f'arch must be one of {sorted(self.arch_settings)}'
                           f', got {arch!r}.')
        depth, stem_channels, stage_channels = self.arch_settings[arch]
        blocks_per_stage = (depth - 2) // 6
        self.stem = nn.Sequential(
            conv_bn(in_channels, stem_channels), nn.ReLU(inplace=True))
        layers, channels = [], stem_channels
        for index, out_channels in enumerate(stage_channels):
            for block in range(blocks_per_stage):
                stride = 2 if index > 0 and block == 0 else 1
                layers.append(BasicBlock(channels, out_channels, stride))
                channels = out_channels
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(self.stem(x)), )
