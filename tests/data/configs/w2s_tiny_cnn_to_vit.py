# Tiny weak-to-strong run: a CNN teacher supervises a ViT student with
# AdaptConf. The config names only the loss; the tests set the data root.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)

num_classes = 4
data_root = None

weak_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        stem_channels=4,
        base_channels=4,
        out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=32,
        loss=dict(type='CrossEntropyLoss')))

strong_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        img_size=16,
        patch_size=4,
        drop_rate=0.1,
        drop_path_rate=0.1),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=num_classes,
        in_channels=32,
        loss=dict(type='CrossEntropyLoss')))

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        num_classes=num_classes),
    architecture=strong_model,
    teacher=weak_model,
    # the tests train against an untrained teacher
    allow_random_teacher=True,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5))))

pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    dataset=dict(
        type='CustomDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
val_cfg = dict(type='mmrazor.WeakToStrongValLoop', ceiling_acc=90.0)
test_cfg = dict()
custom_hooks = [
    dict(type='mmrazor.WarmupFactorHook', schedule='epoch', ratio=0.5)
]
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0)
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
