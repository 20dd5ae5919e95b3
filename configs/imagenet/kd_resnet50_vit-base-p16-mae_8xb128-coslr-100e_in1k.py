# Baseline: KD (mmrazor KLDivergence) from a ResNet-50 during the MAE
# fine-tuning of ViT-B/16 on ImageNet-1k.
_base_ = ['./_w2s_vit-base-p16-mae_in1k.py']

# mmpretrain's resnet50_8xb256-rsb-a1-600e_in1k (its resnet metafile),
# downloaded on first use
resnet50_rsb_a1 = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                   'resnet50_8xb256-rsb-a1-600e_in1k_20211228-20e21305.pth')

model = dict(
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb256-rsb-a1-600e_in1k.py',
        pretrained=False),
    teacher_ckpt=resnet50_rsb_a1,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0))))
