# Copyright (c) mmw2s contributors. All rights reserved.
from .fully_shard_strategy import FullyShardStrategy

__all__ = ['FullyShardStrategy']
