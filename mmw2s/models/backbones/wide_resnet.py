# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Sequence, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


class PreActBlock(nn.Module):
    """BN-ReLU-conv twice, with a 1x1 projection when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None if (
            stride == 1 and in_channels == out_channels) else nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        activated = self.relu(self.bn1(x))
        residual = x if self.shortcut is None else self.shortcut(activated)
        out = self.conv1(activated)
        out = self.conv2(self.relu(self.bn2(out)))
        return out + residual


def preact_stages(in_channels: int, widths: Sequence[int],
                  blocks: Sequence[int]) -> nn.Sequential:
    """Stages of pre-activation blocks (the first block of every stage but
    the first halves the resolution), then the final BN-ReLU.

    Args:
        in_channels (int): Channels of the stem's output.
        widths (Sequence[int]): Channels of each stage.
        blocks (Sequence[int]): Blocks of each stage.

    Returns:
        nn.Sequential: The stages and the final BN-ReLU.
    """
    layers, channels = [], in_channels
    for index, (width, count) in enumerate(zip(widths, blocks)):
        for block in range(count):
            stride = 2 if index > 0 and block == 0 else 1
            layers.append(PreActBlock(channels, width, stride))
            channels = width
    layers += [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


@MODELS.register_module()
class WideResNet(BaseModule):
    """Wide residual networks for CIFAR (Zagoruyko & Komodakis, 2016),
    WRN-depth-width, as CRD's (Tian et al., 2020; RepDistiller
    ``models/wrn.py``); a 32x32 image gives an 8x8 map of 64k channels.

    Parameters, and with a 100-class linear head, as CRD's: WRN-16-1 174,416
    (180,916), WRN-16-2 690,384 (703,284), WRN-40-1 563,280 (569,780),
    WRN-40-2 2,242,256 (2,255,156).

    Args:
        depth (int): 6n + 4. Defaults to 40.
        widen_factor (int): Width multiplier k. Defaults to 2.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The final (BN-ReLU) feature map.
    """

    def __init__(
        self,
        depth: int = 40,
        widen_factor: int = 2,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if (depth - 4) % 6 != 0:
            raise ValueError(f'depth must be 6n + 4, got {depth}.')
        widths = [width * widen_factor for width in (16, 32, 64)]
        self.stem = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.layers = preact_stages(16, widths, [(depth - 4) // 6] * 3)
        self.out_channels = widths[-1]

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(self.stem(x)), )
