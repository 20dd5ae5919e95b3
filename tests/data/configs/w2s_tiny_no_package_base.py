# A tiny weak-to-strong run (AdaptConf, one epoch) whose `_base_` names no
# package (`mmpretrain::`), so that mmrazor's own tools/train.py reads it
# with setuptools >= 81, before `custom_imports` loads mmw2s; the tests set
# `train_dataloader.dataset.data_root`.
custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)
default_scope = 'mmpretrain'


def tiny_resnet(base_channels):
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
        head=dict(
            type='LinearClsHead',
            num_classes=4,
            in_channels=base_channels * 8,
            loss=dict(type='CrossEntropyLoss')))


model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        num_classes=4),
    architecture=tiny_resnet(base_channels=8),
    teacher=tiny_resnet(base_channels=4),
    allow_random_teacher=True,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5))))

train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(
        type='CustomDataset',
        data_root=None,
        data_prefix='train',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=1))
randomness = dict(seed=0)
