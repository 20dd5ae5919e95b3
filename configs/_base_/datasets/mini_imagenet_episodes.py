# Meta-Baseline's episodic training on miniImageNet's base classes: each
# batch is one 5-way 1-shot episode with 15 queries a class (80 images),
# laid out class by class by EpisodicSampler; 200 episodes an epoch.
_base_ = ['./mini_imagenet_bs16.py']

num_ways = 5
num_shots = 1
num_queries = 15
train_dataloader = dict(
    batch_size=num_ways * (num_shots + num_queries),
    sampler=dict(
        _delete_=True,
        type='EpisodicSampler',
        num_ways=num_ways,
        num_shots=num_shots,
        num_queries=num_queries,
        num_episodes=200))
