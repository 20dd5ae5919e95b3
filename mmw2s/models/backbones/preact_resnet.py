# Copyright (c) mmw2s contributors. All rights reserved.
from typing import Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

from .wide_resnet import preact_stages


@MODELS.register_module()
class PreActResNet(BaseModule):
    """Pre-activation ResNet for 32x32 inputs (He et al., 2016), as used in
    learning with noisy labels: a 3x3 64-channel stem, four stages of
    64-128-256-512 channels, a final BN-ReLU.

    Parameters with a 10-class linear head: PreAct-ResNet-18 11.2M,
    PreAct-ResNet-34 21.3M.

    Args:
        depth (int): 18 or 34. Defaults to 18.
        in_channels (int): Input channels. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple[Tensor]: The final feature map.
    """

    arch_settings = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

    def __init__(
        self,
        depth: int = 18,
        in_channels: int = 3,
        init_cfg=dict(type='Kaiming', layer='Conv2d')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'depth must be one of '
                           f'{sorted(self.arch_settings)}, got {depth!r}.')
        self.stem = nn.Conv2d(in_channels, 64, 3, padding=1, bias=False)
        self.layers = preact_stages(64, (64, 128, 256, 512),
                                    self.arch_settings[depth])
        self.out_channels = 512

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        return (self.layers(self.stem(x)), )
