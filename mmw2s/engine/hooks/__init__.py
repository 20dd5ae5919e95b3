# Copyright (c) mmw2s contributors. All rights reserved.
from .warmup_factor_hook import WarmupFactorHook

__all__ = ['WarmupFactorHook']
