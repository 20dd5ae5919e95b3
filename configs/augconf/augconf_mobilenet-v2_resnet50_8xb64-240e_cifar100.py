# AugConf (alpha 0.5, linear warm-up over the first 30% of epochs) on top of the ground truth:
# mobilenet-v2 (weak) -> resnet50 (strong) on CIFAR-100, 8 GPUs x 64.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/cifar100_w2s_runtime.py',
    '../_base_/models/cifar100_classifiers.py',
]

teacher_ckpt = 'work_dirs/mobilenet-v2_8xb64-240e_cifar100/epoch_240.pth'

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.data_preprocessor}},
    architecture={{_base_.resnet50}},
    teacher={{_base_.mobilenet_v2}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AugConfLoss', tau=1.0, alpha=0.5, loss_weight=1.0))))
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(type='SyncBuffersHook'),
    dict(type='mmrazor.WarmupFactorHook', schedule='epoch', ratio=0.3),
]
