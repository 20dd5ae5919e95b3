# Transfer learning ("Vision Superalignment", Sec. 4.2): a ResNet-50 (weak)
# supervises the MAE fine-tuning of ViT-B/16 (strong) on ImageNet-1k with
# AdaptConf (threshold 4.0) on top of the fine-tuning recipe.
_base_ = ['./_w2s_vit-base-p16-mae_in1k.py']

model = dict(
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb256-rsb-a1-600e_in1k.py',
        pretrained=False),
    teacher_ckpt='work_dirs/resnet50_8xb256-rsb-a1-600e_in1k.pth',
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=4.0))))
