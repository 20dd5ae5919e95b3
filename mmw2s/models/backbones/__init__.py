# Copyright (c) mmw2s contributors. All rights reserved.
from .cifar_mobilenet_v2 import CIFARMobileNetV2
from .cifar_resnet import CIFARResNet
from .cifar_shufflenet import CIFARShuffleNetV1, CIFARShuffleNetV2
from .cifar_vgg import CIFARVGG
from .preact_resnet import PreActResNet
from .resnet12 import FewShotResNet, ResNet12
from .wide_resnet import WideResNet

__all__ = [
    'CIFARMobileNetV2', 'CIFARResNet', 'CIFARShuffleNetV1',
    'CIFARShuffleNetV2', 'CIFARVGG', 'FewShotResNet', 'PreActResNet',
    'ResNet12', 'WideResNet'
]
