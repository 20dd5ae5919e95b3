# Baseline: KD (mmrazor KLDivergence) from a ResNet-50 during the MAE
# fine-tuning of ViT-B/16 on ImageNet-1k.
_base_ = ['./_w2s_vit-base-p16-mae_in1k.py']

model = dict(
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb256-rsb-a1-600e_in1k.py',
        pretrained=False),
    teacher_ckpt='work_dirs/resnet50_8xb256-rsb-a1-600e_in1k.pth',
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0))))
