# The CNN-to-ViT run with FlexibleRunner and mmengine's own FSDPStrategy
# (torch's first FSDP, which needs GPUs): full state dicts on rank 0, the
# original parameters kept for the optimizer (the frozen teacher sits in the
# same flat parameter as the student).
_base_ = ['./w2s_tiny_cnn_to_vit.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(use_orig_params=True))
