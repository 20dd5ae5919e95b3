# Meta-Baseline's episodic training on miniImageNet's base classes as Guo et
# al. run it (few_shot_leaerning/train_meta.py, train_meta_mini*.yaml): 200
# batches an epoch of 4 five-way 1-shot episodes with 15 queries a class, on
# 2 GPUs (2 episodes, 160 images, each; EpisodicSampler lays them out class
# by class), no augmentation; validated on 800 seeded 1-shot episodes of the
# validation classes, tested on 10 x 800 episodes of the test classes.
_base_ = ['./mini_imagenet_4xb32.py']

num_ways = 5
num_shots = 1
num_queries = 15
episodes_per_gpu = 2
train_dataloader = dict(
    batch_size=episodes_per_gpu * num_ways * (num_shots + num_queries),
    dataset=dict(pipeline={{_base_.test_pipeline}}),
    sampler=dict(
        _delete_=True,
        type='EpisodicSampler',
        num_ways=num_ways,
        num_shots=num_shots,
        num_queries=num_queries,
        num_episodes=200 * episodes_per_gpu))
val_dataloader = dict(dataset=dict(split='val'))
val_evaluator = dict(num_shots=(num_shots, ))
