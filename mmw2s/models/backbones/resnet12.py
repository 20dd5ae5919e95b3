# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


class ResNet12Block(nn.Module):
    """Three 3x3 conv-BN layers (LeakyReLU 0.1) and a shortcut. With
    ``downsample`` the shortcut is a 1x1 projection and the block ends with
    2x2 max pooling; without, the shortcut is the identity."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 downsample: bool = True) -> None:
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
            nn.BatchNorm2d(out_channels)) if downsample else nn.Identity()
        self.relu = nn.LeakyReLU(0.1, inplace=True)
        self.pool = nn.MaxPool2d(2) if downsample else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.relu(self.body(x) + self.shortcut(x)))


@MODELS.register_module()
class ResNet12(BaseModule):
    """ResNet-12 of few-shot learning (Lee et al., MetaOptNet, 2019; Chen et
    al., Meta-Baseline, 2021): four residual blocks of three 3x3 convolutions
    with 64-160-320-640 channels, each followed by 2x2 max pooling. 12.4M
    parameters; 84x84 inputs give 5x5x640 features.

    Args:
        channels (Sequence[int]): Channels of the four stages.
            Defaults to (64, 160, 320, 640).
        in_channels (int): Input channels. Defaults to 3.
        stage_blocks (Sequence[int]): Blocks of each stage: the first
            downsamples, the others keep the size. Defaults to (1, 1, 1, 1).
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The last block's feature map.
    """

    def __init__(
        self,
        channels: Sequence[int] = (64, 160, 320, 640),
        in_channels: int = 3,
        stage_blocks: Sequence[int] = (1, 1, 1, 1),
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(stage_blocks) != len(channels):
            raise ValueError(f'stage_blocks={tuple(stage_blocks)} must give '
                             f'one count for each of the {len(channels)} '
                             f'stages of channels={tuple(channels)}.')
        blocks, previous = [], in_channels
        for width, count in zip(channels, stage_blocks):
            blocks += [
                ResNet12Block(previous if index == 0 else width, width,
                              index == 0) for index in range(count)
            ]
            previous = width
        self.layers = nn.Sequential(*blocks)
        self.out_channels = previous

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(x), )


@MODELS.register_module()
class FewShotResNet(ResNet12):
    """The ResNets of Guo et al.'s few-shot code ("resnetN_bottle" in their
    ``few_shot_leaerning/models/resnet.py``): ResNet-12 blocks with
    64-128-256-512 channels, ``depth / 3`` blocks in all, the first of each
    stage downsampling. Depths 12, 18 and 36 have 8.0M, 10.2M and 23.2M
    parameters; 80x80 inputs give 5x5x512 features.

    Args:
        depth (int): 12, 18 or 36.
        channels (Sequence[int]): Channels of the four stages.
            Defaults to (64, 128, 256, 512).
        **kwargs: ``in_channels`` and ``init_cfg`` of :class:`ResNet12`.
    """

    arch_settings = {12: (1, 1, 1, 1), 18: (1, 2, 2, 1), 36: (2, 3, 5, 2)}

    def __init__(self,
                 depth: int,
                 channels: Sequence[int] = (64, 128, 256, 512),
                 **kwargs) -> None:
        if depth not in self.arch_settings:
            raise KeyError(f'depth={depth!r} is not one of '
                           f'{sorted(self.arch_settings)}.')
        super().__init__(
            channels=channels,
            stage_blocks=self.arch_settings[depth],
            **kwargs)
