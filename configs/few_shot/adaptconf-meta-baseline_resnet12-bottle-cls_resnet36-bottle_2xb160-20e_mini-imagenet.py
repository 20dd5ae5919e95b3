# Few-shot learning, Meta-Baseline stage ("Vision Superalignment", Sec. 4.3;
# train_meta.py with train_meta_mini_kd_adapt_conf.yaml): on 5-way 1-shot
# episodes, the student resnet36_bottle, starting from its plain classifier
# stage, learns from the query labels and from a weak resnet12_bottle with
# AdaptConf (threshold 0.25, tau 10). The teacher is the encoder of its plain
# classifier stage (resnet12-bottle_4xb32-100e_mini-imagenet.py) with the
# episode centroid head at the fixed temperature 10. Beta warms up over the
# first 25% of epochs, numbered from 1 as their trainer does.
_base_ = [
    '../_base_/datasets/mini_imagenet_episodes.py',
    '../_base_/schedules/few_shot_meta_sgd_20e.py', '../_base_/w2s_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    architecture={{_base_.meta_baseline_resnet36}},
    teacher={{_base_.meta_teacher_resnet12_cls}},
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=10.0, threshold=0.25))))
val_cfg = dict(acc_key='few-shot/5way-1shot')
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(
        type='mmrazor.WarmupFactorHook',
        schedule='epoch',
        ratio=0.25,
        first_epoch=1)
]
