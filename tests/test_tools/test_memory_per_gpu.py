# Copyright (c) mmw2s contributors. All rights reserved.
"""The computed memory table counts the published parameters, applies
the stated bytes per parameter and is the one the distributed guide shows."""
import importlib.util
import os.path as osp

import pytest
from conftest import REPO_ROOT

SPEC = importlib.util.spec_from_file_location(
    'memory_per_gpu',
    osp.join(REPO_ROOT, 'tools', 'analysis', 'memory_per_gpu.py'))
memory_per_gpu = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(memory_per_gpu)

# timm's vit_*_224 and torchvision's resnet50 (1000 classes)
PUBLISHED = {
    'ViT-B/16': 86_567_656,
    'ViT-L/16': 304_326_632,
    'ViT-H/14': 632_045_800,
    'ViT-g/14': 1_012_611_432,
}
RESNET50 = 25_557_032
# a ViT-L block: qkv and projection 4 x 1024^2 + 4 x 1024, MLP
# 2 x 1024 x 4096 + 4096 + 1024, two LayerNorms 4 x 1024
VIT_L_BLOCK = 4 * 1024**2 + 4 * 1024 + 2 * 1024 * 4096 + 5120 + 4 * 1024


def test_the_models_have_their_published_parameter_counts():
    rows = memory_per_gpu.memory_table(num_gpus=8)
    assert {row['student']: row['params'] for row in rows} == PUBLISHED
    assert memory_per_gpu.count_teacher()[0] == RESNET50
    assert memory_per_gpu.count_parameters(
        memory_per_gpu.student_cfg('large', 16),
        'TransformerEncoderLayer') == (PUBLISHED['ViT-L/16'], VIT_L_BLOCK)


def test_the_table_applies_the_bytes_per_parameter():
    vit_l = {
        row['student']: row
        for row in memory_per_gpu.memory_table(num_gpus=8)
    }['ViT-L/16']
    teacher = RESNET50 * 4  # fp32 weights alone
    params = PUBLISHED['ViT-L/16']
    # DDP: 16 bytes a parameter, fp32 weights 4 + gradients 4 + moments 8,
    # in fp32 as in mixed precision
    for precision in ('fp32', 'mixed'):
        assert vit_l[f'DDP {precision}'] == pytest.approx(
            (params * 16 + teacher) / 2**30)
    # FSDP over 8: a shard, and two blocks gathered whole with their
    # gradients and the fp32 copy of those reduce-scattered (4 + 4 + 4
    # bytes fp32, 2 + 2 + 4 bf16)
    assert vit_l['FSDP fp32'] == pytest.approx(
        (params * 16 / 8 + 2 * VIT_L_BLOCK * 12 + teacher) / 2**30)
    assert vit_l['FSDP mixed'] == pytest.approx(
        (params * 16 / 8 + 2 * VIT_L_BLOCK * 8 + teacher) / 2**30)


def test_the_documented_table_is_what_the_tool_prints(capsys, monkeypatch):
    monkeypatch.setattr('sys.argv', ['memory_per_gpu.py', '--gpus', '8'])
    memory_per_gpu.main()
    table = [
        line for line in capsys.readouterr().out.splitlines()
        if line.startswith('|')
    ]
    guide = osp.join(REPO_ROOT, 'docs', 'user_guides', 'distributed.md')
    with open(guide) as file:
        documented = file.read().splitlines()
    start = documented.index(table[0])
    assert documented[start:start + len(table)] == table
