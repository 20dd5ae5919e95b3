# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


def conv_bn_relu(in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3, project (1x1, linear); a residual when
    the shape is kept."""

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.conv = nn.Sequential(
            conv_bn_relu(in_channels, hidden, 1),
            conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.use_residual else out


@MODELS.register_module()
class CIFARMobileNetV2(BaseModule):
    """MobileNetV2 (Sandler et al., 2018) for 32x32 inputs, as CRD's
    ``mobile_half`` (Tian et al., 2020; RepDistiller
    ``models/mobilenetv2.py``): a stride-2 stem and stride-1 first two
    stages, so a 32x32 image is halved four times, to a 2x2 map of 1280
    channels. With ``widen_factor=0.5`` (the "MobileNetV2" of CRD's tables)
    it has 684,736 parameters, 812,836 with a 100-class linear head, as CRD's.

    Args:
        widen_factor (float): Width multiplier. Defaults to 0.5.
        expand_ratio (int): Expansion of the inverted residuals.
            Defaults to 6.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The feature map of the final 1x1 convolution.
    """

    # (expansion, channels, blocks, stride) of each stage
    stages = ((1, 16, 1, 1), (None, 24, 2, 1), (None, 32, 3, 2),
              (None, 64, 4, 2), (None, 96, 3, 1), (None, 160, 3,
                                                   2), (None, 320, 1, 1))

    def __init__(
        self,
        widen_factor: float = 0.5,
        expand_ratio: int = 6,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = int(32 * widen_factor)
        layers = [conv_bn_relu(in_channels, channels, 3, stride=2)]
        for expansion, width, blocks, stride in self.stages:
            out_channels = int(width * widen_factor)
            for block in range(blocks):
                layers.append(
                    InvertedResidual(channels, out_channels,
                                     stride if block == 0 else 1, expansion
                                     or expand_ratio))
                channels = out_channels
        final_channels = int(1280 * widen_factor) if widen_factor > 1.0 \
            else 1280
        layers.append(conv_bn_relu(channels, final_channels, 1))
        self.layers = nn.Sequential(*layers)
        self.out_channels = final_channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(x), )
