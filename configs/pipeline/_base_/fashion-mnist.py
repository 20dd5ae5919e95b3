# Fashion-MNIST for the pipeline: data, image transforms, models and the
# self-supervised pre-training of the strong student.

# Debian's `dataset-fashion-mnist`. Any mmpretrain dataset works: `type` and
# the arguments every split shares, then each split's own (`train`, `test`),
# and those that make the training images unlabelled for pre-training.
# `--data-root DIR` reads another IDX directory (with `--cfg-options
# data.type=MNISTIDX` or `IDXDataset`); see w2s_image-folder.py for folders.
data = dict(
    type='FashionMNISTIDX',
    data_root='/usr/share/datasets/fashion-mnist',
    train=dict(split='train'),
    test=dict(split='test'),
    # pre-training never opens the labels file
    unlabelled=dict(labelled=False),
    # held out from the training images, seeded: hyper-parameters are chosen
    # on it (`--eval-split val`), never on the test set. A count or a
    # fraction: 1/12 is 5,000 of Fashion-MNIST's 60,000.
    val_size=1 / 12)

# Every stage trains at least this many iterations (its epochs are raised
# where its data is small): 3 epochs of 10,000 images in batches of 64.
min_iters = 450

# 28x28 greyscale padded to 32x32. Teacher and student see the same batch.
train_pipeline = [
    dict(type='Pad', size=(32, 32)),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Pad', size=(32, 32)),
    dict(type='PackInputs'),
]
data_preprocessor = dict(
    type='ClsDataPreprocessor', mean=[72.94], std=[90.02], num_classes=10)

vit_arch = dict(
    embed_dims=128, num_layers=6, num_heads=4, feedforward_channels=512)

# A model is a classifier with its optimiser and batch size; stages name one:
# the weak model, the strong model (pre-trained by `pretrain`) and a larger
# network trained from scratch (the knowledge-distillation setting). Its
# classifier's `num_classes` is set from the data (or a stage's classes).
sgd = dict(
    optimizer=dict(
        type='SGD', lr=0.05, momentum=0.9, nesterov=True,
        weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
models = dict(
    weak=dict(
        title='LeNet-5',
        batch_size=64,
        optim_wrapper=sgd,
        model=dict(
            type='ImageClassifier',
            backbone=dict(type='LeNet5', num_classes=10),
            head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss')))),
    scratch=dict(
        title='ResNet-18 (16 base channels)',
        batch_size=64,
        optim_wrapper=sgd,
        model=dict(
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
                loss=dict(type='CrossEntropyLoss')))),
    # MAE fine-tuning recipe of mmpretrain (average-pooled patch tokens,
    # layer-wise lr decay), shrunk to a 1.2 M-parameter ViT
    strong=dict(
        title='ViT (6 layers, width 128, patch 4)',
        batch_size=64,
        optim_wrapper=dict(
            optimizer=dict(
                type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                weight_decay=0.05),
            constructor='LearningRateDecayOptimWrapperConstructor',
            paramwise_cfg=dict(
                layer_decay_rate=0.75,
                custom_keys={
                    '.ln': dict(decay_mult=0.0),
                    '.bias': dict(decay_mult=0.0),
                    '.cls_token': dict(decay_mult=0.0),
                    '.pos_embed': dict(decay_mult=0.0)
                })),
        model=dict(
            type='ImageClassifier',
            backbone=dict(
                type='VisionTransformer',
                arch=vit_arch,
                img_size=32,
                patch_size=4,
                in_channels=1,
                out_type='avg_featmap',
                final_norm=False),
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=128,
                loss=dict(type='CrossEntropyLoss')))),
)

# MAE on the unlabelled training images (the labels file is never opened).
# `checkpoint` is the committed result; it is used only when its recorded
# settings and training images equal these (else the pipeline pre-trains).
# Stages with `init='pretrain'` start their backbone from it.
pretrain = dict(
    title='MAE',
    checkpoint='checkpoints/mae_vit-p4_fashion-mnist.pth',
    seed=0,
    epochs=25,
    warmup_epochs=3,
    batch_size=256,
    pipeline=[
        dict(type='Pad', size=(32, 32)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ],
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[72.94], std=[90.02]),
    optim_wrapper=dict(
        optimizer=dict(
            type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05),
        paramwise_cfg=dict(
            custom_keys={
                'ln': dict(decay_mult=0.0),
                'bias': dict(decay_mult=0.0),
                'pos_embed': dict(decay_mult=0.0),
                'mask_token': dict(decay_mult=0.0),
                'cls_token': dict(decay_mult=0.0)
            })),
    model=dict(
        type='MAE',
        backbone=dict(
            type='MAEViT',
            arch=vit_arch,
            img_size=32,
            patch_size=4,
            patch_cfg=dict(in_channels=1),
            mask_ratio=0.75),
        neck=dict(
            type='MAEPretrainDecoder',
            num_patches=64,
            patch_size=4,
            in_chans=1,
            embed_dim=128,
            decoder_embed_dim=64,
            decoder_depth=2,
            decoder_num_heads=4,
            mlp_ratio=4.),
        head=dict(
            type='MAEPretrainHead',
            norm_pix=True,
            patch_size=4,
            in_channels=1,
            loss=dict(type='PixelReconstructionLoss', criterion='L2')),
        init_cfg=[
            dict(type='Xavier', layer='Linear', distribution='uniform'),
            dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)
        ]),
    # what MAE's fine-tuning replaces: the pre-training's last norm (ln1)
    # and the pooled features' norm (ln2), which starts fresh; every other
    # key of the backbone must load
    ignore=['ln1.', 'ln2.'])
