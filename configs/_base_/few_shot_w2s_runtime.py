# Runtime of the few-shot weak-to-strong configs: the weak-to-strong runtime,
# validated on 5-way 1-shot accuracy, with beta warmed up over the first 25%
# of epochs numbered from 1, as Guo et al.'s few-shot trainers do
# (few_shot_leaerning/utils/__init__.py:208-209).
_base_ = ['./w2s_runtime.py']

val_cfg = dict(acc_key='few-shot/5way-1shot')
custom_hooks = [
    dict(type='mmrazor.NonFiniteCheckHook'),
    dict(
        type='mmrazor.WarmupFactorHook',
        schedule='epoch',
        ratio=0.25,
        first_epoch=1)
]
