# The offline-weak-logits run with FlexibleRunner and torch's fully_shard;
# the tests set the weak-logits file and the data root.
_base_ = ['./w2s_tiny_offline.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FullyShardStrategy',
    shard_module_types=('TransformerEncoderLayer', ))
