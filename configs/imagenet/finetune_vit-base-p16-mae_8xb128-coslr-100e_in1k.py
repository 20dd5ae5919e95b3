# Baseline: the MAE fine-tuning of ViT-B/16 on ImageNet-1k as the authors run
# it (classification/train.py on timm 0.6.12 with imagenet_mae.yaml, no
# teacher), on mmpretrain's MAE recipe where the two agree: 100 epochs of
# 8 x 128, AdamW lr 2e-3 (not scaled with the batch), weight decay 0.05,
# layer-wise lr decay 0.65, RandAugment m9 / mstd 0.5, random erasing 0.25,
# mixup 0.8 / cutmix 1.0, label smoothing 0.1, drop path 0.1. What follows
# is where timm's vit_base_patch16_224 differs from mmpretrain's recipe.
_base_ = ['mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py']

# mmpretrain's mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k (its mae
# metafile), downloaded on first use
mae_pretrained = (
    'https://download.openmmlab.com/mmselfsup/1.x/mae/'
    'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k/'
    'mae_vit-base-p16_8xb512-fp16-coslr-1600e_in1k_20220825-f7569ca2.pth')

# timm's data config of vit_base_patch16_224: mean and std 0.5, bicubic,
# evaluation crop 0.9 (resize the short edge to floor(224 / 0.9) = 248)
data_preprocessor = dict(mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        # timm fills with round(255 x mean)
        hparams=dict(pad_val=[128, 128, 128], interpolation='bicubic')),
    # timm erases with N(0, 1) noise after normalisation: N(127.5, 127.5)
    # in pixels
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=[127.5] * 3,
        fill_std=[127.5] * 3),
    dict(type='PackInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=248,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    backbone=dict(
        # timm's default pooling: the CLS token after the final norm (the
        # MAE checkpoint carries that norm)
        out_type='cls_token',
        final_norm=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=mae_pretrained,
            prefix='backbone.')))

# --amp: mixed precision with a dynamic loss scale
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
# timm's per-epoch cosine, as the CIFAR schedule: lr(e) = 1e-4 + e (2e-3 -
# 1e-4) / 5 for epochs 0-4 (LinearLR reaches its end factor at epoch
# end - 1), a cosine over epochs 0-100 to 1e-6 after; timm scales warm-up
# and minimum by each layer's decay too (eta_min_ratio)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4 / 2e-3,
        by_epoch=True,
        begin=0,
        end=6),
    dict(
        type='CosineAnnealingLR',
        T_max=100,
        eta_min_ratio=1e-6 / 2e-3,
        by_epoch=True,
        begin=0,
        end=100),
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=3,
        save_best='accuracy/top1'))
