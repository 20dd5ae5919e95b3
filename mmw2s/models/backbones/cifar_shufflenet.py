# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups."""
    batch, channels, height, width = x.shape
    return x.view(batch, groups, channels // groups, height,
                  width).transpose(1, 2).reshape(batch, channels, height,
                                                 width)


class ShuffleV1Block(nn.Module):
    """Grouped 1x1 - shuffle - depthwise 3x3 - grouped 1x1, each with BN and
    all but the last with ReLU (CRD's ``Bottleneck``, ReLU after the
    depthwise BN included); a stride-2 block concatenates an average-pooled
    shortcut. The first block after the 24-channel stem has an ungrouped
    first 1x1, so it shuffles nothing."""

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 groups: int) -> None:
        super().__init__()
        self.stride = stride
        if stride == 2:
            out_channels -= in_channels  # the shortcut is concatenated
        mid = out_channels // 4
        self.first_groups = 1 if in_channels == 24 else groups
        self.conv1 = nn.Conv2d(
            in_channels, mid, 1, groups=self.first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(
            mid, mid, 3, stride, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.stride == 2:
            return F.relu(torch.cat([out, F.avg_pool2d(x, 3, 2, 1)], 1))
        return F.relu(out + x)


@MODELS.register_module()
class CIFARShuffleNetV1(BaseModule):
    """ShuffleNet V1 (Zhang et al., 2018) for 32x32 inputs, as CRD's
    ``ShuffleV1`` (Tian et al., 2020; RepDistiller ``models/ShuffleNetv1.py``):
    a 24-channel 1x1 stem without pooling, three stages of 4, 8, 4 blocks, a
    960x4x4 map for a 32x32 image. With ``groups=3`` (240-480-960 channels)
    it has 853,158 parameters, 949,258 with a 100-class linear head, as
    CRD's.

    Args:
        groups (int): Groups of the 1x1 convolutions. Defaults to 3.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The last stage's feature map.
    """

    stage_channels = {
        1: (144, 288, 576),
        2: (200, 400, 800),
        3: (240, 480, 960),
        4: (272, 544, 1088),
        8: (384, 768, 1536)
    }

    def __init__(
        self,
        groups: int = 3,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if groups not in self.stage_channels:
            raise KeyError(f'groups must be one of '
                           f'{sorted(self.stage_channels)}, got {groups!r}.')
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 24, 1, bias=False), nn.BatchNorm2d(24),
            nn.ReLU(inplace=True))
        layers, channels = [], 24
        for width, blocks in zip(self.stage_channels[groups], (4, 8, 4)):
            for block in range(blocks):
                layers.append(
                    ShuffleV1Block(channels, width, 2 if block == 0 else 1,
                                   groups))
                channels = width
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(self.stem(x)), )


class ShuffleV2Block(nn.Module):
    """ShuffleNet V2 unit: split (or duplicate, when striding), a branch of
    1x1 - depthwise 3x3 - 1x1, concatenate, shuffle."""

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        self.stride = stride
        branch_in = in_channels if stride == 2 else in_channels // 2
        branch_out = out_channels // 2 if stride == 2 else in_channels // 2
        self.branch = nn.Sequential(
            nn.Conv2d(branch_in, branch_out, 1, bias=False),
            nn.BatchNorm2d(branch_out), nn.ReLU(inplace=True),
            nn.Conv2d(
                branch_out,
                branch_out,
                3,
                stride,
                padding=1,
                groups=branch_out,
                bias=False), nn.BatchNorm2d(branch_out),
            nn.Conv2d(branch_out, branch_out, 1, bias=False),
            nn.BatchNorm2d(branch_out), nn.ReLU(inplace=True))
        if stride == 2:
            self.shortcut = nn.Sequential(
                nn.Conv2d(
                    in_channels,
                    in_channels,
                    3,
                    stride,
                    padding=1,
                    groups=in_channels,
                    bias=False), nn.BatchNorm2d(in_channels),
                nn.Conv2d(
                    in_channels, out_channels - branch_out, 1, bias=False),
                nn.BatchNorm2d(out_channels - branch_out),
                nn.ReLU(inplace=True))

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 2:
            out = torch.cat([self.shortcut(x), self.branch(x)], 1)
        else:
            kept, processed = x.chunk(2, dim=1)
            out = torch.cat([kept, self.branch(processed)], 1)
        return channel_shuffle(out, 2)


@MODELS.register_module()
class CIFARShuffleNetV2(BaseModule):
    """ShuffleNet V2 (Ma et al., 2018) for 32x32 inputs, as CRD's
    ``ShuffleV2`` (Tian et al., 2020; RepDistiller ``models/ShuffleNetv2.py``):
    a 24-channel 1x1 stem without pooling, three stages of 4, 8, 4 units and
    a final 1x1 convolution, a 1024x4x4 map for a 32x32 image. With
    ``widen_factor=1.0`` it has 1,253,028 parameters, 1,355,528 with a
    100-class linear head, as CRD's.

    Args:
        widen_factor (float): 0.5, 1.0, 1.5 or 2.0. Defaults to 1.0.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The feature map of the final convolution.
    """

    arch_settings = {
        0.5: (48, 96, 192, 1024),
        1.0: (116, 232, 464, 1024),
        1.5: (176, 352, 704, 1024),
        2.0: (224, 488, 976, 2048),
    }

    def __init__(
        self,
        widen_factor: float = 1.0,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if widen_factor not in self.arch_settings:
            raise KeyError(f'widen_factor must be one of '
                           f'{sorted(self.arch_settings)}, got '
                           f'{widen_factor!r}.')
        *stage_channels, final_channels = self.arch_settings[widen_factor]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 24, 1, bias=False), nn.BatchNorm2d(24),
            nn.ReLU(inplace=True))
        layers, channels = [], 24
        for width, blocks in zip(stage_channels, (4, 8, 4)):
            for block in range(blocks):
                layers.append(
                    ShuffleV2Block(channels, width, 2 if block == 0 else 1))
                channels = width
        layers += [
            nn.Conv2d(channels, final_channels, 1, bias=False),
            nn.BatchNorm2d(final_channels),
            nn.ReLU(inplace=True)
        ]
        self.layers = nn.Sequential(*layers)
        self.out_channels = final_channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(self.stem(x)), )
