# Copyright (c) mmw2s contributors. All rights reserved.
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .classifiers import FewShotClassifier  # noqa: F401
from .distillers import *  # noqa: F401,F403
from .heads import EpisodeCentroidHead  # noqa: F401
from .losses import *  # noqa: F401,F403
