# The weak-to-strong study on your own images: a folder per class
# (mmpretrain's CustomDataset), colour images of any size, read at 32x32.
#
#   DATA/train/<class name>/*.png       DATA/test/<class name>/*.png
#   python tools/w2s_pipeline.py configs/pipeline/w2s_image-folder.py \
#       --data-root DATA
#
# The settings, sizes and schedules are those of w2s_fashion-mnist.py; the
# models take 3 channels and their outputs follow the number of classes
# found. The strong ViT is pre-trained with MAE on DATA/train first. For
# larger images raise `img_size` (and the patch size) below; to start the
# strong model from your own weights instead, give its stages
# `init=dict(checkpoint=FILE, prefix='backbone.')` (see
# mmw2s/pipeline/stages.py). The few-shot setting needs 10 classes or more.
_base_ = ['./w2s_fashion-mnist.py']

data = dict(
    _delete_=True,
    type='CustomDataset',
    data_root='data/images',
    train=dict(data_prefix='train'),
    test=dict(data_prefix='test'),
    # pre-training lists the images without reading the class folders' names
    unlabelled=dict(with_label=False),
    val_size=1 / 12)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
# CIFAR's statistics, a fair start for natural images
mean = [125.307, 122.961, 113.8575]
std = [51.5865, 50.847, 51.255]
data_preprocessor = dict(
    _delete_=True, type='ClsDataPreprocessor', mean=mean, std=std, to_rgb=True)

models = dict(
    # LeNet-5 reads one channel: the weak model here is a narrow ResNet-18
    weak=dict(
        title='ResNet-18 (8 base channels)',
        model=dict(
            _delete_=True,
            type='ImageClassifier',
            backbone=dict(
                type='ResNet_CIFAR',
                depth=18,
                stem_channels=8,
                base_channels=8),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss')))),
    scratch=dict(model=dict(backbone=dict(in_channels=3))),
    strong=dict(model=dict(backbone=dict(in_channels=3))))

pretrain = dict(
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(32, 32)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ],
    data_preprocessor=dict(mean=mean, std=std, to_rgb=True),
    model=dict(
        backbone=dict(patch_cfg=dict(in_channels=3)),
        neck=dict(in_chans=3),
        head=dict(in_channels=3)),
    # made on Fashion-MNIST: never matches other data, so the study
    # pre-trains on DATA/train; `--export-pretrained` copies its result here
    checkpoint='checkpoints/mae_vit-p4_image-folder.pth')
