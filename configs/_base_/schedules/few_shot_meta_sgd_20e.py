# Meta-Baseline stage of few-shot learning (Guo et al.'s train_meta_mini*.yaml,
# as Meta-Baseline's): 20 epochs of 200 batches of 4 episodes, SGD lr 1e-3
# (momentum 0.9) constant, weight decay 5e-4, validated every epoch.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4))
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
auto_scale_lr = dict(base_batch_size=320)
