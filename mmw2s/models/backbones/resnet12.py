# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


class ResNet12Block(nn.Module):
    """Three 3x3 conv-BN layers (LeakyReLU 0.1), a 1x1 projection shortcut,
    then 2x2 max pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        layers = []
        for index in range(3):
            layers += [
                nn.Conv2d(
                    in_channels if index == 0 else out_channels,
                    out_channels,
                    3,
                    padding=1,
                    bias=False),
                nn.BatchNorm2d(out_channels)
            ]
            if index < 2:
                layers.append(nn.LeakyReLU(0.1, inplace=True))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.relu = nn.LeakyReLU(0.1, inplace=True)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.relu(self.body(x) + self.shortcut(x)))


@MODELS.register_module()
class ResNet12(BaseModule):
    """ResNet-12 of few-shot learning (Lee et al., MetaOptNet, 2019; Chen et
    al., Meta-Baseline, 2021): four residual blocks of three 3x3 convolutions
    with 64-160-320-640 channels, each followed by 2x2 max pooling. 12.4M
    parameters; 84x84 inputs give 5x5x640 features.

    Args:
        channels (Sequence[int]): Channels of the four blocks.
            Defaults to (64, 160, 320, 640).
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The last block's feature map.
    """

    def __init__(
        self,
        channels: Sequence[int] = (64, 160, 320, 640),
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        blocks, previous = [], in_channels
        for width in channels:
            blocks.append(ResNet12Block(previous, width))
            previous = width
        self.layers = nn.Sequential(*blocks)
        self.out_channels = previous

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(x), )
