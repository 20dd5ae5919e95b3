# The weak teacher of the noisy-label setting: PreAct-ResNet-18 trained on
# the noisy labels.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    '../_base_/schedules/noisy_sgd_200e.py', '../_base_/classifier_runtime.py'
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

model = dict(
    type='ImageClassifier',
    data_preprocessor=data_preprocessor_cfg,
    backbone=dict(type='PreActResNet', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss')))
