# Classifier stage of few-shot learning: 100 epochs, SGD lr 0.1 for a total
# batch of 128 (8 GPUs x 16), weight decay 5e-4, lr / 10 at epoch 90.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[90], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=5)
auto_scale_lr = dict(base_batch_size=128)
