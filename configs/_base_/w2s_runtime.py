# Runtime of the weak-to-strong configs: mmpretrain's, with mmw2s imported,
# student and teacher validated side by side, non-finite losses stopped.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)
val_cfg = dict(type='mmrazor.WeakToStrongValLoop')
test_cfg = dict()
custom_hooks = [dict(type='mmrazor.NonFiniteCheckHook')]
