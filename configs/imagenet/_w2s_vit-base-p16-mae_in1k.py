# Shared by the ImageNet transfer configs: the MAE fine-tuning recipe of
# ViT-B/16 as the strong student of a WeakToStrongDistill model. The
# preprocessor applies mixup / cutmix once, so teacher and student see the
# same mixed images. A config adds `teacher`, `teacher_ckpt` and the losses.
_base_ = ['./finetune_vit-base-p16-mae_8xb128-coslr-100e_in1k.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True,
        batch_augments=dict(augments=[
            dict(type='mmpretrain.Mixup', alpha=0.8),
            dict(type='mmpretrain.CutMix', alpha=1.0)
        ])),
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch='base',
            img_size=224,
            patch_size=16,
            drop_path_rate=0.1,
            out_type='avg_featmap',
            final_norm=False,
            init_cfg=dict(
                type='Pretrained',
                checkpoint={{_base_.mae_pretrained}},
                prefix='backbone.')),
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=1000,
            in_channels=768,
            loss=dict(
                type='LabelSmoothLoss', label_smooth_val=0.1,
                mode='original'),
            init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)])))

val_cfg = dict(_delete_=True, type='mmrazor.WeakToStrongValLoop')
custom_hooks = [dict(type='mmrazor.NonFiniteCheckHook')]
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
