# The tiny weak CNN alone, as a plain mmpretrain classifier config.
_base_ = ['./w2s_tiny_cnn_to_vit.py']

model = dict(
    _delete_=True,
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.weak_model.backbone}},
    neck={{_base_.weak_model.neck}},
    head={{_base_.weak_model.head}})
val_cfg = dict(_delete_=True)
custom_hooks = []
