# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class CIFARVGG(BaseModule):
    """VGG with BatchNorm for 32x32 inputs, as CRD's ``vgg*_bn`` (Tian et
    al., 2020; RepDistiller ``models/vgg.py``): five stages of 3x3
    conv(bias)-BN-ReLU, 2x2 max pooling after the first three (CRD pools
    before the fifth only for 64x64 inputs), so a 32x32 image gives a
    512x4x4 map (the neck pools it).

    Parameters, and with a 100-class linear head, as CRD's: VGG8 3,913,728
    (3,965,028), VGG11 9,225,984 (9,277,284), VGG13 9,410,880 (9,462,180),
    VGG16 14,723,136 (14,774,436), VGG19 20,035,392 (20,086,692).

    Args:
        depth (int): 8, 11, 13, 16 or 19. Defaults to 13.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The 512-channel feature map of the last stage.
    """

    # convolutions per stage; stage widths are 64, 128, 256, 512, 512
    arch_settings = {
        8: (1, 1, 1, 1, 1),
        11: (1, 1, 2, 2, 2),
        13: (2, 2, 2, 2, 2),
        16: (2, 2, 3, 3, 3),
        19: (2, 2, 4, 4, 4),
    }

    def __init__(
        self,
        depth: int = 13,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'depth must be one of '
                           f'{sorted(self.arch_settings)}, got {depth!r}.')
        layers, channels = [], in_channels
        for stage, (convs, width) in enumerate(
                zip(self.arch_settings[depth], (64, 128, 256, 512, 512))):
            if stage in (1, 2, 3):  # not before the last stage, as CRD's
                layers.append(nn.MaxPool2d(2))
            for _ in range(convs):
                layers += [
                    nn.Conv2d(channels, width, 3, padding=1),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True)
                ]
                channels = width
        self.features = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.features(x), )
