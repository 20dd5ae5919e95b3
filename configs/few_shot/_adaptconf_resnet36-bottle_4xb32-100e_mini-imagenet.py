# Shared by the classifier-stage AdaptConf configs (train_classifier.py with
# train_classifier_mini_kd_adapt_conf.yaml): resnet36_bottle (strong) trained
# on the 64 base classes with AdaptConf (threshold 8, tau 10) under a weak
# classifier-stage teacher; a config adds `teacher` and `teacher_ckpt`.
_base_ = [
    '../_base_/datasets/mini_imagenet_4xb32.py',
    '../_base_/schedules/few_shot_sgd_100e.py',
    '../_base_/few_shot_w2s_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    architecture={{_base_.resnet36_bottle}},
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=10.0, threshold=8.0))))
