# CIFAR10 with synthetic label noise on the training set (seeded; the clean
# label stays in each sample as `clean_label`), 128 images a batch. A config
# sets `train_dataloader.dataset.noise_type` and `noise_rate`.
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py']

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

noisy_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)


def _preact_resnet(depth):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='PreActResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss')))


preact_resnet18 = _preact_resnet(18)
preact_resnet34 = _preact_resnet(34)
