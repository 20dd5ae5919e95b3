# Runtime of the configs that train one classifier (the weak teachers):
# mmpretrain's, with mmw2s imported for its backbones and datasets.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)
val_cfg = dict()
test_cfg = dict()
custom_hooks = [dict(type='mmrazor.NonFiniteCheckHook')]
