# Shared by the ImageNet transfer configs: the authors' MAE fine-tuning of
# ViT-B/16 (the baseline config) as the strong student of a
# WeakToStrongDistill model. The preprocessor normalises as the student
# expects (timm's 0.5 / 0.5) and applies mixup / cutmix once: the teacher
# sees the very same input, as in the authors' trainer. A config adds
# `teacher`, `teacher_ckpt` and the losses.
_base_ = ['./finetune_vit-base-p16-mae_8xb128-coslr-100e_in1k.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=1000,
        mean={{_base_.data_preprocessor.mean}},
        std={{_base_.data_preprocessor.std}},
        to_rgb=True,
        batch_augments=dict(augments=[
            dict(type='mmpretrain.Mixup', alpha=0.8),
            dict(type='mmpretrain.CutMix', alpha=1.0)
        ])),
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone={{_base_.model.backbone}},
        neck=None,
        head={{_base_.model.head}}))

val_cfg = dict(_delete_=True, type='mmrazor.WeakToStrongValLoop')
custom_hooks = [dict(type='mmrazor.NonFiniteCheckHook')]
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
