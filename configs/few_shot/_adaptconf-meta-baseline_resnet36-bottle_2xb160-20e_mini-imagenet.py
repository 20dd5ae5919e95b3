# Shared by the Meta-Baseline-stage AdaptConf configs (train_meta.py with
# train_meta_mini_kd_adapt_conf.yaml): on 5-way 1-shot episodes,
# resnet36_bottle, from its plain classifier stage, learns from the query
# labels and from a weak teacher's episode logits with AdaptConf (threshold
# 0.25, tau 10); a config adds `teacher`.
_base_ = [
    '../_base_/datasets/mini_imagenet_episodes.py',
    '../_base_/schedules/few_shot_meta_sgd_20e.py',
    '../_base_/few_shot_w2s_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    architecture={{_base_.meta_baseline_resnet36}},
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=10.0, threshold=0.25))))
