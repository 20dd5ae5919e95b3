# Few-shot learning, Meta-Baseline stage ("Vision Superalignment", Sec.
# 4.3): on 5-way 1-shot episodes, the weak Meta-Baseline ResNet-12 and the
# strong ResNet-18 (from its AdaptConf classifier stage) both produce the
# episode's 5-way logits (scaled cosine similarities to the support
# centroids); the student learns from the query labels and from the teacher
# with AdaptConf (threshold 0.25, tau 10).
_base_ = [
    '../_base_/datasets/mini_imagenet_episodes.py',
    '../_base_/w2s_runtime.py',
    '../_base_/models/mini_imagenet_classifiers.py'
]

teacher_ckpt = 'work_dirs/meta-baseline_resnet12_1xb80-20e_mini-imagenet/' \
    'epoch_20.pth'

model = dict(
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.mini_imagenet_preprocessor}},
    architecture={{_base_.meta_baseline_resnet18}},
    teacher={{_base_.meta_baseline_resnet12}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss', tau=10.0, threshold=0.25))))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4))
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict(acc_key='few-shot/5way-1shot')
