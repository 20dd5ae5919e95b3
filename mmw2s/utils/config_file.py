# Copyright (c) mmw2s contributors. All rights reserved.
import os.path as osp

from mmengine.config import Config
from mmengine.hub import get_config


def load_config(path: str) -> Config:
    """A config file, or a config of an installed OpenMMLab package named as
    ``'package::path/in/its/configs.py'`` (e.g.
    ``'mmpretrain::resnet/resnet18_8xb16_cifar10.py'``), as mmengine's
    ``get_config`` resolves it.

    Args:
        path (str): A file path or a ``package::`` reference.

    Returns:
        Config: The config.
    """
    if '::' in path and not osp.isfile(path):
        return get_config(path)
    return Config.fromfile(path)
