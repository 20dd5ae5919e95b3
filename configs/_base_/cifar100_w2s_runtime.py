# w2s_runtime.py as the authors' trainer runs (classification/train.py):
# validation every epoch (see the schedule), the best top-1 and the last
# checkpoint kept, BN statistics averaged over the GPUs after each epoch
# (their --dist-bn reduce).
_base_ = ['./w2s_runtime.py']

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best='accuracy/top1',
        rule='greater'))
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(type='SyncBuffersHook'),
]
