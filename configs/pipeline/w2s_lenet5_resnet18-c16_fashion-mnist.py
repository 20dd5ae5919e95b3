# The main job: weak-to-strong generalization on real Fashion-MNIST.
# Run it with `python tools/w2s_pipeline.py THIS_FILE` (see the README).
#
# Protocol (Burns et al., 2023): split the training set into halves A and B;
# train the weak LeNet-5 on A and the strong ResNet-18 ceiling on B with
# ground truth; label B once with the weak model; train the strong model on
# B from the weak labels only, once per method; evaluate all on the official
# test set and report PGR = (student - weak) / (ceiling - weak).

data = dict(
    type='FashionMNISTIDX',
    data_root='/usr/share/datasets/fashion-mnist',
    # samples of each half used by default (full halves: --full)
    weak_samples=4000,
    strong_samples=12000)

# 28x28 greyscale, padded to the 32x32 of LeNet-5; no random augmentation,
# so offline weak labels equal online ones.
image_pipeline = [
    dict(type='Pad', size=(32, 32)),
    dict(type='PackInputs'),
]
data_preprocessor = dict(
    type='ClsDataPreprocessor', mean=[72.94], std=[90.02], num_classes=10)

weak_model = dict(
    type='ImageClassifier',
    backbone=dict(type='LeNet5', num_classes=10),
    head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss')))

strong_model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        in_channels=1,
        stem_channels=16,
        base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss')))

batch_size = 64
weak_epochs = 2
strong_epochs = 4
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# the learning rate follows a cosine curve over each stage (per iteration)

# Weak-to-strong methods: the student learns from weak labels only.
# `warmup` configures WarmupFactorHook (None: no warm-up).
methods = dict(
    kd=dict(loss=dict(type='KLDivergence', tau=1.0)),
    augconf=dict(
        loss=dict(type='AugConfLoss', tau=1.0, alpha=0.5),
        warmup=dict(schedule='epoch', ratio=0.3)),
    adaptconf=dict(loss=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5)),
    logconf=dict(
        loss=dict(type='LogConfLoss', alpha=0.5),
        warmup=dict(schedule='iter', ratio=0.2)),
)
# --with-ground-truth adds this run: the paper's setting, ground truth plus
# the weak-to-strong loss (not a weak-supervision result: reported apart).
ground_truth_method = dict(
    adaptconf_gt=dict(
        loss=dict(type='AdaptConfLoss', tau=1.0, threshold=0.5)))
