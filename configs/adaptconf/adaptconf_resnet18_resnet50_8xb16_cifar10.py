# Weak-to-strong on CIFAR-10: a ResNet-18 supervises a ResNet-50 with
# AdaptConf (Guo et al., arXiv 2402.03749), on top of the ground truth.
# Train the weak model first with mmpretrain's own config:
#   python tools/train.py mmpretrain::resnet/resnet18_8xb16_cifar10.py
# (or tools/dist_train.sh), then set teacher_ckpt to its checkpoint.
_base_ = ['mmpretrain::resnet/resnet50_8xb16_cifar10.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)

teacher_ckpt = 'work_dirs/resnet18_8xb16_cifar10/epoch_200.pth'

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=10,
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        to_rgb=False),
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb16_cifar10.py',
        pretrained=False),
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb16_cifar10.py',
        pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5))))

val_cfg = dict(_delete_=True, type='mmrazor.WeakToStrongValLoop')
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
