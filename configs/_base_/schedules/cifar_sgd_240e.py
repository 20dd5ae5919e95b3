# The CIFAR-100 distillation schedule of "Vision Superalignment" (after CRD):
# 240 epochs, SGD lr 0.2 for a total batch of 512 (8 GPUs x 64), 10 linear
# warm-up epochs, then cosine to 2e-3; weight decay 5e-4.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=230,
        eta_min=2e-3,
        by_epoch=True,
        begin=10,
        end=240,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=5)
auto_scale_lr = dict(base_batch_size=512)
