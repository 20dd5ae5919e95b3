# Copyright (c) mmw2s contributors. All rights reserved.
"""Tiny mmpretrain classifiers and batches for the model tests."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmpretrain.structures import DataSample

NUM_CLASSES = 5
IMAGE_SIZE = 16


@PRETRAIN_MODELS.register_module(force=True)
class TwoBranchToyBackbone(BaseModule):
    """Returns features shaped like Conformer's: ``([conv, trans], )``."""

    def __init__(self, conv_channels: int = 6, trans_channels: int = 8):
        super().__init__()
        self.conv = nn.Conv2d(3, conv_channels, 3, padding=1)
        self.trans = nn.Linear(3, trans_channels)

    def forward(self, x):
        conv = self.conv(x).mean(dim=(2, 3))
        trans = self.trans(x.mean(dim=(2, 3)))
        return ([conv, trans], )


def cnn(base_channels: int = 4, head: Optional[dict] = None) -> dict:
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            stem_channels=base_channels,
            base_channels=base_channels,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=head or dict(
            type='LinearClsHead',
            num_classes=NUM_CLASSES,
            in_channels=base_channels * 8))


TINY_VIT_ARCH = dict(
    embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)


def vit(head_type: str = 'VisionTransformerClsHead',
        drop: float = 0.0,
        distilled: bool = False) -> dict:
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='DistilledVisionTransformer'
            if distilled else 'VisionTransformer',
            arch=TINY_VIT_ARCH,
            img_size=IMAGE_SIZE,
            patch_size=4,
            drop_rate=drop,
            drop_path_rate=drop),
        neck=None,
        head=dict(type=head_type, num_classes=NUM_CLASSES, in_channels=32))


HEADS = {
    'LinearClsHead':
    cnn(8),
    'StackedLinearClsHead':
    cnn(
        8,
        dict(
            type='StackedLinearClsHead',
            num_classes=NUM_CLASSES,
            in_channels=64,
            mid_channels=[16])),
    'EfficientFormerClsHead':
    cnn(
        8,
        dict(
            type='EfficientFormerClsHead',
            num_classes=NUM_CLASSES,
            in_channels=64,
            distillation=False)),
    'VisionTransformerClsHead':
    vit(),
    'DeiTClsHead':
    vit('DeiTClsHead', distilled=True),
    'ConformerHead':
    dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='TwoBranchToyBackbone'),
        neck=None,
        head=dict(
            type='ConformerHead', num_classes=NUM_CLASSES, in_channels=[6,
                                                                        8])),
}

DATA_PREPROCESSOR = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[0.0, 0.0, 0.0],
    std=[1.0, 1.0, 1.0],
    num_classes=NUM_CLASSES)


def w2s_model(student: dict,
              teacher: Optional[dict],
              losses: Optional[dict] = None,
              **kwargs) -> dict:
    """A WeakToStrongDistill config; its teacher may stay random (these
    tests check the mechanics, not a trained teacher)."""
    kwargs.setdefault('allow_random_teacher', teacher is not None)
    return dict(
        _scope_='mmrazor',
        type='WeakToStrongDistill',
        data_preprocessor=DATA_PREPROCESSOR,
        architecture=student,
        teacher=teacher,
        distiller=dict(
            type='WeakToStrongDistiller',
            distill_losses=losses
            or dict(loss_w2s=dict(type='AdaptConfLoss', threshold=0.5))),
        **kwargs)


def batch(num: int = 6,
          seed: int = 0,
          labels: bool = True) -> Tuple[torch.Tensor, List[DataSample]]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(num, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    samples = []
    for index in range(num):
        sample = DataSample()
        if labels:
            sample.set_gt_label(index % NUM_CLASSES)
        samples.append(sample)
    return inputs, samples
