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


def _meta_baseline(backbone, classifier_ckpt, prefix='backbone.'):
    """Meta-Baseline: the classifier-stage backbone (loaded from its
    checkpoint, under ``prefix``) with the episode centroid head."""
    return dict(
        _scope_='mmpretrain',
        type='FewShotClassifier',
        backbone=dict(
            backbone,
            init_cfg=dict(
                type='Pretrained',
                checkpoint=classifier_ckpt,
                prefix=prefix)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='EpisodeCentroidHead',
            num_ways=5,
            num_shots=1,
            num_queries=15,
            temperature=10.0))


meta_baseline_resnet12 = _meta_baseline(
    dict(type='ResNet12'),
    'work_dirs/resnet12_8xb16-100e_mini-imagenet/epoch_100.pth')
# the student of a distillation checkpoint: its weights are under
# `architecture.`
meta_baseline_resnet18 = _meta_baseline(
    dict(type='ResNet', depth=18),
    'work_dirs/adaptconf_resnet12_resnet18_8xb16-100e_mini-imagenet/'
    'epoch_100.pth',
    prefix='architecture.backbone.')
