# The CNN-to-ViT run with FlexibleRunner and torch's fully_shard: the ViT
# student's blocks, the rest of its backbone and the rest of the student are
# sharded, the CNN teacher stays whole on every rank. Launch with
# tools/dist_train.sh CONFIG 2.
_base_ = ['./w2s_tiny_cnn_to_vit.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FullyShardStrategy',
    shard_module_types=('TransformerEncoderLayer', ))
