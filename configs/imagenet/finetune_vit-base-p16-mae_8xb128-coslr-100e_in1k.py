# Baseline: mmpretrain's MAE fine-tuning recipe of ViT-B/16 on ImageNet-1k
# (AdamW, layer-wise lr decay 0.65, mixup 0.8 / cutmix 1.0, label smoothing
# 0.1, drop path 0.1, 100 epochs), without a teacher. Set mae_pretrained to
# the MAE pre-trained backbone (mmpretrain's mae_vit-base-p16 checkpoints).
_base_ = ['mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py']

mae_pretrained = 'work_dirs/mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.pth'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=mae_pretrained,
            prefix='backbone.')))
