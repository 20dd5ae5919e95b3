# Learning with noisy labels ("Vision Superalignment", Sec. 4.4): a
# PreAct-ResNet-18 trained on the noisy labels supervises a PreAct-ResNet-34
# with AdaptConf (threshold 0.5, tau 20), beta warmed up over the first
# 25% of epochs. (The paper adds this on top of Sel-CL; Sel-CL itself is not
# part of mmw2s.)
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    '../_base_/schedules/noisy_sgd_200e.py', '../_base_/w2s_runtime.py'
]

# 20% symmetric label noise on the training set (seeded); the
# clean label stays in each sample as `clean_label`.
train_dataloader = dict(
    batch_size=128,
    dataset=dict(
        _delete_=True,
        type='NoisyLabelDataset',
        noise_type='symmetric',
        noise_rate=0.2,
        seed=0,
        asymmetric_map='cifar10',
        dataset=dict(
            type='CIFAR10',
            data_root='data/cifar10',
            split='train',
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(batch_size=128)
test_dataloader = dict(batch_size=128)

data_preprocessor_cfg = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)

teacher_ckpt = 'work_dirs/preact-resnet18_1xb128-200e_cifar10-sym20/epoch_200.pth'

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=data_preprocessor_cfg,
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='PreActResNet', depth=34),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='PreActResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=20.0, threshold=0.5))))
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(type='mmrazor.WarmupFactorHook', schedule='epoch', ratio=0.25)
]
