# CIFAR100 with synthetic label noise on the training set (seeded; the clean
# label stays in each sample as `clean_label`), 128 images a batch. A config
# sets `train_dataloader.dataset.noise_type` and `noise_rate`.
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py']

train_dataloader = dict(
    batch_size=128,
    dataset=dict(
        _delete_=True,
        type='NoisyLabelDataset',
        noise_type='symmetric',
        noise_rate=0.2,
        seed=0,
        asymmetric_map='cifar100',
        dataset=dict(
            type='CIFAR100',
            data_root='data/cifar100',
            split='train',
            pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(batch_size=128)
test_dataloader = dict(batch_size=128)

noisy_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=100,
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418],
    to_rgb=False)


def _preact_resnet(depth):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(type='PreActResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=100,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss')))


preact_resnet18 = _preact_resnet(18)
preact_resnet34 = _preact_resnet(34)
