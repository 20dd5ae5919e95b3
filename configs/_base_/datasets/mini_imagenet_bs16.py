# miniImageNet (Ravi & Larochelle's split) in the CSV format: 64-way
# classification on the base classes for training; 5-way few-shot episodes on
# the 16 validation / 20 test classes for evaluation. For the pickled formats,
# drop LoadImageFromFile from the pipelines (the samples carry `img`).
data_root = 'data/mini-imagenet'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=84),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=92, edge='short'),
    dict(type='CenterCrop', crop_size=84),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    dataset=dict(
        type='MiniImageNet',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='MiniImageNet',
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(
    type='FewShotAccuracy',
    num_ways=5,
    num_shots=(1, 5),
    num_queries=15,
    num_episodes=600,
    seed=0)
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='MiniImageNet',
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = val_evaluator
