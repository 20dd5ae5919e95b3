# miniImageNet (Ravi & Larochelle's split) as Guo et al.'s few-shot code
# reads it (few_shot_leaerning/datasets/mini_imagenet.py, after Meta-Baseline):
# images resized to 80 x 80, normalised with the ImageNet mean and std (in
# the models' preprocessor). Classifier stage: 64-way classification of the
# base classes, a total batch of 128 (4 GPUs x 32), random resized crops and
# flips; 5-way 1-/5-shot episodes (15 queries) of the novel classes every 5
# epochs, 800 seeded episodes (their 200 batches of 4), 10 x 800 at test.
# For the pickled formats, drop LoadImageFromFile from the pipelines (the
# samples carry `img`).
data_root = 'data/mini-imagenet'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=80, backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=80, edge='short', backend='pillow'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type='MiniImageNet',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
# their classifier stage evaluates its few-shot episodes on the test split
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='MiniImageNet',
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(
    type='FewShotAccuracy',
    num_ways=5,
    num_shots=(1, 5),
    num_queries=15,
    num_episodes=800,
    seed=0)
test_dataloader = val_dataloader
test_evaluator = dict(val_evaluator, num_episodes=8000)
