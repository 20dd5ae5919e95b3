# CIFAR-100 as the authors of "Vision Superalignment" feed it to their timm
# 0.6.12 trainer with classification/configs/cifar_v0.yaml: 64 images per GPU;
# for training a random-resized crop (scale 0.08-1, ratio 3/4-4/3) to 32 and
# a horizontal flip; for testing a resize to 36 = floor(32 / crop_pct 0.875)
# and a centre crop of 32; their mean and std. Pillow resizes, as timm's.
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py']

data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    # (0.5071, 0.4865, 0.4409) and (0.2673, 0.2564, 0.2762) x 255
    mean=[129.3105, 124.0575, 112.4295],
    std=[68.1615, 65.382, 70.431])

train_pipeline = [
    # timm picks bilinear or bicubic at random for each crop
    dict(
        type='RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.08, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(
        type='ResizeEdge',
        scale=36,
        edge='short',
        interpolation='bilinear',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]

train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
