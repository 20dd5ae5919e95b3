# Baseline: strong-to-strong. The teacher is itself a fine-tuned ViT-B/16
# (e.g. the result of finetune_vit-base-p16-mae_8xb128-coslr-100e_in1k.py),
# supervising a new MAE fine-tuning with AdaptConf.
_base_ = ['./_w2s_vit-base-p16-mae_in1k.py']

model = dict(
    teacher=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch='base',
            img_size=224,
            patch_size=16,
            out_type='cls_token',
            final_norm=True),
        neck=None,
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=768)),
    teacher_ckpt='work_dirs/finetune_vit-base-p16-mae_8xb128-coslr-100e_in1k/'
    'epoch_100.pth',
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=4.0))))
