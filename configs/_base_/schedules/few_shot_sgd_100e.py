# Classifier stage of few-shot learning (Guo et al.'s
# train_classifier_mini*.yaml): 100 epochs, SGD lr 0.1 (momentum 0.9) for a
# total batch of 128, weight decay 5e-4 on every parameter, lr / 10 from
# epoch 91 on.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[90], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=5)
auto_scale_lr = dict(base_batch_size=128)
