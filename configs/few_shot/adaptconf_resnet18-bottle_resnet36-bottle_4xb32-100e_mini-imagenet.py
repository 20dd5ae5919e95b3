# Few-shot learning ("Vision Superalignment", Sec. 4.3), classifier stage
# (train_classifier.py with train_classifier_mini_kd_adapt_conf.yaml): the
# classifier-stage resnet18_bottle (weak) supervises resnet36_bottle (strong)
# on the 64 base classes with AdaptConf (threshold 8, tau 10), beta warmed up
# over the first 25% of epochs, numbered from 1 as their trainer does;
# evaluated on 5-way 1-/5-shot episodes of the novel classes.
_base_ = [
    '../_base_/datasets/mini_imagenet_4xb32.py',
    '../_base_/schedules/few_shot_sgd_100e.py', '../_base_/w2s_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

teacher_ckpt = 'work_dirs/resnet18-bottle_4xb32-100e_mini-imagenet/' \
    'epoch_100.pth'

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    architecture={{_base_.resnet36_bottle}},
    teacher={{_base_.resnet18_bottle}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=10.0, threshold=8.0))))
val_cfg = dict(acc_key='few-shot/5way-1shot')
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(
        type='mmrazor.WarmupFactorHook',
        schedule='epoch',
        ratio=0.25,
        first_epoch=1)
]
