# 64-way classifiers on miniImageNet's base classes whose predictions carry
# pooled features for few-shot evaluation (FewShotClassifier).
resnet12 = dict(
    _scope_='mmpretrain',
    type='FewShotClassifier',
    backbone=dict(type='ResNet12'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=64,
        in_channels=640,
        loss=dict(type='CrossEntropyLoss')))
resnet18 = dict(
    _scope_='mmpretrain',
    type='FewShotClassifier',
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=64,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss')))
mini_imagenet_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=64,
    mean=[120.39586422, 115.59361427, 104.54012653],
    std=[70.68188272, 68.27635443, 72.54505529],
    to_rgb=True)
