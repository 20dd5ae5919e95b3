# Copyright (c) mmw2s contributors. All rights reserved.
from .adaptconf_loss import AdaptConfLoss
from .augconf_loss import AugConfLoss
from .logconf_loss import LogConfLoss

__all__ = ['AdaptConfLoss', 'AugConfLoss', 'LogConfLoss']
