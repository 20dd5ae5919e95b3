# The few-shot models of Guo et al. (few_shot_leaerning/models/): their
# "resnetN_bottle" ResNets (FewShotResNet) as 64-way classifiers of
# miniImageNet's base classes whose predictions carry pooled features for
# few-shot evaluation, and as Meta-Baseline models (the classifier-stage
# backbone with the episode centroid head). Inputs are normalised with the
# ImageNet mean and std.
mini_imagenet_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=64,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)


def _classifier(depth):
    return dict(
        _scope_='mmpretrain',
        type='FewShotClassifier',
        backbone=dict(type='FewShotResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=64,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss')))


def _meta_baseline(depth, checkpoint, learnable_temperature=True):
    """Meta-Baseline: the backbone of ``checkpoint`` (a FewShotClassifier's,
    under ``backbone.``) with the episode centroid head, 2 episodes a GPU;
    the temperature starts at 10, learnt by a student, fixed for a teacher
    (their teachers load only the encoder)."""
    return dict(
        _scope_='mmpretrain',
        type='FewShotClassifier',
        backbone=dict(
            type='FewShotResNet',
            depth=depth,
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint, prefix='backbone.')),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='EpisodeCentroidHead',
            num_ways=5,
            num_shots=1,
            num_queries=15,
            num_episodes=2,
            temperature=10.0,
            learnable_temperature=learnable_temperature))


def _classifier_ckpt(depth):
    """The last checkpoint of the plain classifier stage."""
    return f'work_dirs/resnet{depth}-bottle_4xb32-100e_mini-imagenet/' \
        'epoch_100.pth'


def _meta_ckpt(depth):
    """The last checkpoint of the plain Meta-Baseline stage."""
    return f'work_dirs/meta-baseline_resnet{depth}-bottle_2xb160-20e_' \
        'mini-imagenet/epoch_20.pth'


resnet12_bottle = _classifier(12)
resnet18_bottle = _classifier(18)
resnet36_bottle = _classifier(36)
# Meta-Baselines trained from their plain classifier stage
meta_baseline_resnet12 = _meta_baseline(12, _classifier_ckpt(12))
meta_baseline_resnet18 = _meta_baseline(18, _classifier_ckpt(18))
meta_baseline_resnet36 = _meta_baseline(36, _classifier_ckpt(36))
# teachers of the meta stage: a classifier-stage or a Meta-Baseline encoder
meta_teacher_resnet12_cls = _meta_baseline(12, _classifier_ckpt(12), False)
meta_teacher_resnet18_cls = _meta_baseline(18, _classifier_ckpt(18), False)
meta_teacher_resnet12_meta = _meta_baseline(12, _meta_ckpt(12), False)
meta_teacher_resnet18_meta = _meta_baseline(18, _meta_ckpt(18), False)
