# Copyright (c) mmw2s contributors. All rights reserved.
"""Layer-wise learning-rate decay (MAE fine-tuning) of a weak-to-strong
student: the student's layer depths, the frozen teacher left out."""
import mmpretrain.engine  # noqa: F401  (registers the constructor)
import pytest
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmrazor.registry import MODELS
from model_helpers import TINY_VIT_ARCH, cnn, vit, w2s_model

import mmw2s  # noqa: F401

DECAY = 0.5


def test_student_parameters_get_their_layer_depths_and_lr_scales():
    algorithm = MODELS.build(w2s_model(vit(), cnn(4)))
    layers = TINY_VIT_ARCH['num_layers'] + 2
    expected = {
        'architecture.backbone.cls_token': 0,
        'architecture.backbone.pos_embed': 0,
        'architecture.backbone.patch_embed.projection.weight': 0,
        'architecture.backbone.layers.0.ffn.layers.1.weight': 1,
        f'architecture.backbone.layers.{layers - 3}.attn.qkv.weight':
        layers - 2,
        'architecture.backbone.ln1.weight': layers - 1,
        'architecture.head.layers.head.weight': layers - 1,
    }
    for name, depth in expected.items():
        assert algorithm.get_layer_depth(name) == (depth, layers), name

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        wrapper = build_optim_wrapper(
            algorithm,
            dict(
                optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
                constructor='LearningRateDecayOptimWrapperConstructor',
                paramwise_cfg=dict(layer_decay_rate=DECAY)))
    learning_rates = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            learning_rates[id(param)] = group['lr']
    named = dict(algorithm.named_parameters())
    for name, depth in expected.items():
        assert learning_rates[id(named[name])] == pytest.approx(
            DECAY**(layers - 1 - depth)), name
    # the frozen teacher is not optimised
    assert not any(
        id(param) in learning_rates
        for param in algorithm.teacher.parameters())
