# Learning with noisy labels ("Vision Superalignment", Sec. 4.4): the
# PreAct-ResNet-18 trained on the noisy labels supervises a PreAct-ResNet-34
# with AdaptConf (threshold 0.5, tau 1), beta warmed up over the first 25%
# of epochs. (The paper adds this on top of Sel-CL, which mmw2s does not
# include.)
_base_ = ['./preact-resnet18_1xb128-200e_cifar100-sym20.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.noisy_preprocessor}},
    architecture={{_base_.preact_resnet34}},
    teacher={{_base_.preact_resnet18}},
    teacher_ckpt='work_dirs/preact-resnet18_1xb128-200e_cifar100-sym20/epoch_200.pth',
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5))))

val_cfg = dict(_delete_=True, type='mmrazor.WeakToStrongValLoop')
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    # epochs counted from 1, as the authors' trainer does
    dict(
        type='mmrazor.WarmupFactorHook',
        schedule='epoch',
        ratio=0.25,
        first_epoch=1)
]
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
