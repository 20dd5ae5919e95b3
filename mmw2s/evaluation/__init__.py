# Copyright (c) mmw2s contributors. All rights reserved.
from .pgr import performance_gap_recovered

__all__ = ['performance_gap_recovered']
