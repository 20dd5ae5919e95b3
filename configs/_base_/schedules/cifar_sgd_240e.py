# The CIFAR-100 schedule of the authors' trainer (classification/train.py on
# timm 0.6.12, with cifar_v0.yaml / cifar_v1.yaml), per epoch: 240 epochs;
# SGD with Nesterov momentum 0.9 (timm's "sgd"), lr 0.2 for their 8 GPUs x 64
# (train.py does not scale it with the batch), weight decay 5e-4 on all but
# biases and norm parameters (timm leaves 1-D parameters undecayed); lr from
# 1e-4 up over 10 warm-up epochs and a cosine to 2e-3 over the 240 epochs.
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    # timm's warm-up, lr(e) = 1e-4 + e (0.2 - 1e-4) / 10 for epochs 0-9, is
    # the ramp that would reach 0.2 at epoch 10: LinearLR reaches its end
    # factor at epoch end - 1
    dict(
        type='LinearLR', start_factor=1e-4 / 0.2, by_epoch=True, begin=0,
        end=11),
    # timm's cosine runs over epochs 0-240 (warmup_prefix=False) and the
    # warm-up replaces its first 10 values; here the two multiply during the
    # warm-up, which puts those epochs at most 0.35% below timm's lr
    dict(
        type='CosineAnnealingLR', T_max=240, eta_min=2e-3, by_epoch=True,
        begin=0, end=240),
]
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
auto_scale_lr = dict(base_batch_size=512)
