# A ViT teacher supervises a CNN student with AugConf; the epoch warm-up of
# the paper over the first half of 4 epochs.
_base_ = ['./w2s_tiny_cnn_to_vit.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='WeakToStrongDistill',
    data_preprocessor={{_base_.model.data_preprocessor}},
    architecture={{_base_.weak_model}},
    teacher={{_base_.strong_model}},
    # the tests train against an untrained teacher
    allow_random_teacher=True,
    distiller=dict(
        type='WeakToStrongDistiller',
        distill_losses=dict(loss_w2s=dict(type='AugConfLoss', alpha=0.5))))
train_cfg = dict(max_epochs=4)
