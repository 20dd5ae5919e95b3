# Copyright (c) mmw2s contributors. All rights reserved.
from .nonfinite_check_hook import NonFiniteCheckHook
from .warmup_factor_hook import WarmupFactorHook

__all__ = ['NonFiniteCheckHook', 'WarmupFactorHook']
