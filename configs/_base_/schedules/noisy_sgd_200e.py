# Schedule of the noisy-label configs: 200 epochs, SGD lr 0.02 for a batch
# of 128 on one GPU, cosine decay, weight decay 5e-4.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0,
         end=200)
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=5)
auto_scale_lr = dict(base_batch_size=128)
