# A foundation-size student: an MAE ViT-L/16 under the ResNet-50 teacher
# with AdaptConf, its parameters, gradients and AdamW state sharded over 8
# GPUs (FlexibleRunner + FullyShardStrategy, torch's fully_shard), its
# backbone in bf16 compute with fp32 reduction, its head, logits and losses
# in fp32; the teacher stays whole on every GPU, in eval mode, in fp32.
# The recipe is the ViT-B/16 one with MAE's ViT-L column (He et al. 2022,
# Table 9): 50 epochs, base lr 1e-3 x 1024 / 256, layer-wise decay 0.75,
# drop path 0.2. Memory per GPU (computed):
# tools/analysis/memory_per_gpu.py.
_base_ = ['./adaptconf_resnet50_vit-base-p16-mae_8xb128-coslr-100e_in1k.py']

# mmpretrain's mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k (its mae
# metafile), downloaded on first use
mae_pretrained = (
    'https://download.openmmlab.com/mmselfsup/1.x/mae/'
    'mae_vit-large-p16_8xb512-fp16-coslr-1600e_in1k/'
    'mae_vit-large-p16_8xb512-fp16-coslr-1600e_in1k_20220825-cc7e98c9.pth')
lr = 4e-3

model = dict(
    architecture=dict(
        backbone=dict(
            arch='large',
            drop_path_rate=0.2,
            init_cfg=dict(checkpoint=mae_pretrained)),
        head=dict(in_channels=1024)))

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FullyShardStrategy',
    shard_module_types=('TransformerEncoderLayer', ),
    mp_policy=dict(param_dtype='bfloat16', reduce_dtype='float32'))

# mixed precision is the strategy's (mp_policy; FullyShardStrategy refuses
# AmpOptimWrapper): a plain OptimWrapper with the base's AdamW and
# parameter-wise settings
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=lr, weight_decay=0.05, eps=1e-8,
        betas=(0.9, 0.999)),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            '.absolute_pos_embed': dict(decay_mult=0.0),
            '.relative_position_bias_table': dict(decay_mult=0.0),
            '.ln': dict(decay_mult=0.0),
            '.bias': dict(decay_mult=0.0),
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4 / lr,
        by_epoch=True,
        begin=0,
        end=6),
    dict(
        type='CosineAnnealingLR',
        T_max=50,
        eta_min_ratio=1e-6 / lr,
        by_epoch=True,
        begin=0,
        end=50),
]
train_cfg = dict(max_epochs=50)
