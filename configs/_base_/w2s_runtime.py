# Runtime of the weak-to-strong configs: mmpretrain's, with mmw2s imported,
# student and teacher validated side by side, non-finite losses stopped.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['mmw2s'], allow_failed_imports=False)
val_cfg = dict(type='mmrazor.WeakToStrongValLoop')
test_cfg = dict()
custom_hooks = [dict(type='mmrazor.NonFiniteCheckHook')]
# the loss terms are averaged over the logging window as the losses they
# add up to are (mmengine averages only keys with 'loss', 'time', ...)
log_processor = dict(
    mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*')
