# Copyright (c) mmw2s contributors. All rights reserved.
"""Memory per GPU of weak-to-strong training with ViT students: DDP vs FSDP,
fp32 vs mixed precision. **Computed, not measured.**

The students (mmpretrain ViTs with a 1000-class head) and the ResNet-50
teacher are built on the meta device and their parameters counted; the
memory is those counts times the bytes a parameter of training with AdamW
as this project does it:

- model states, 16 bytes a parameter in fp32 and in mixed precision alike:
  fp32 weights 4 + fp32 gradients 4 + AdamW moments 8. DDP's mixed
  precision (``AmpOptimWrapper``, autocast) keeps fp32 weights and
  gradients and casts per operation; FSDP's (``mp_policy`` with
  ``param_dtype='bfloat16'``) keeps the sharded parameters and gradients
  in fp32 and gathers bf16 copies (no separate bf16 weights and fp32
  master weights, as in Apex's or ZeRO's layout);
- DDP keeps all of it on every GPU; FSDP (ZeRO-3, FullyShardStrategy)
  keeps 1/N of it, plus the units it gathers whole: the unit computing and
  the one prefetched (2 x the largest unit, a ViT block), each with its
  weights and gradients in the compute dtype and, while they are
  reduce-scattered, a copy of its gradients in ``reduce_dtype`` (fp32;
  torch's ``foreach_reduce`` copies them into one buffer): at most
  4 + 4 + 4 = 12 bytes in fp32, 2 + 2 + 4 = 8 in bf16 with fp32
  reduction;
- the frozen teacher: fp32 weights only (4 bytes; no gradients, no
  optimizer state), whole on every GPU. Sharding it forward-only instead
  (its Bottleneck blocks as units) is shown beside it.

Activations (batch size, resolution, activation checkpointing), DDP's
gradient buckets (another 4 bytes a parameter unless
``gradient_as_bucket_view``), the CUDA context and allocator fragmentation
come on top and are not counted.

Example::

    python tools/analysis/memory_per_gpu.py --gpus 8
"""
import argparse
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.registry import MODELS

import mmw2s  # noqa: F401  (patches the stack)

STUDENTS = {
    'ViT-B/16': dict(arch='base', patch_size=16),
    'ViT-L/16': dict(arch='large', patch_size=16),
    'ViT-H/14': dict(arch='huge', patch_size=14),
    'ViT-g/14': dict(arch='eva-g', patch_size=14),
}
# bytes a parameter: model states (fp32 weights, gradients, AdamW moments)
STATE_BYTES = {'fp32': 4 + 4 + 8, 'mixed': 4 + 4 + 8}
# bytes a parameter of a unit FSDP gathers whole: weights and gradients in
# the compute dtype, and the fp32 copy of the gradients reduce-scattered
GATHERED_BYTES = {'fp32': 4 + 4 + 4, 'mixed': 2 + 2 + 4}
GATHERED_UNITS = 2  # the unit computing and the one prefetched
TEACHER_BYTES = 4  # fp32 weights of the frozen teacher
GIB = 2**30


def student_cfg(arch: str, patch_size: int) -> dict:
    """A ViT classifier of ImageNet-1k as the configs/imagenet students."""
    embed_dims = VisionTransformer.arch_zoo[arch]['embed_dims']
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='VisionTransformer',
            arch=arch,
            img_size=224,
            patch_size=patch_size,
            out_type='cls_token',
            final_norm=True),
        head=dict(
            type='LinearClsHead', num_classes=1000, in_channels=embed_dims))


TEACHER_CFG = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048))


def count_parameters(model_cfg: dict,
                     unit_type: str,
                     device: str = 'meta') -> Tuple[int, int]:
    """Build a model on ``device`` (meta: no memory) and count.

    Args:
        model_cfg (dict): An mmpretrain model config.
        unit_type (str): Class name of the modules sharded one by one.
        device (str): Where to build it; mmpretrain's ResNet reads a
            tensor's value while it is built, which the meta device cannot
            give. Defaults to ``'meta'``.

    Returns:
        tuple[int, int]: The parameters of the model and of its largest
        unit: a module of ``unit_type``, or the rest of the model (the
        root unit).
    """
    with DefaultScope.overwrite_default_scope('mmpretrain'), \
            torch.device(device):
        model = MODELS.build(model_cfg)
    total = sum(param.numel() for param in model.parameters())
    units = [
        sum(param.numel() for param in module.parameters())
        for module in model.modules() if type(module).__name__ == unit_type
    ]
    if not units:
        raise ValueError(f'No module of type {unit_type!r} in the model.')
    return total, max(units + [total - sum(units)])


def count_teacher() -> Tuple[int, int]:
    """The parameters of the ResNet-50 teacher and of its largest
    Bottleneck, counted on CPU (25.6 M parameters)."""
    return count_parameters(TEACHER_CFG, 'Bottleneck', device='cpu')


def student_bytes(params: int, largest_unit: int, precision: str,
                  num_gpus: Optional[int]) -> float:
    """Model-state bytes a GPU holds of a trained model.

    Args:
        params (int): Its parameters.
        largest_unit (int): Parameters of its largest FSDP unit.
        precision (str): ``'fp32'`` or ``'mixed'``.
        num_gpus (int, optional): GPUs FSDP shards over; None for DDP.

    Returns:
        float: Bytes per GPU.
    """
    if num_gpus is None:
        return params * STATE_BYTES[precision]
    return (params * STATE_BYTES[precision] / num_gpus +
            GATHERED_UNITS * largest_unit * GATHERED_BYTES[precision])


def teacher_bytes(params: int, largest_unit: int,
                  num_gpus: Optional[int]) -> float:
    """Bytes a GPU holds of the frozen teacher: all of it (``num_gpus``
    None), or its shard plus the units gathered for its forward."""
    if num_gpus is None:
        return params * TEACHER_BYTES
    return (params * TEACHER_BYTES / num_gpus +
            GATHERED_UNITS * largest_unit * TEACHER_BYTES)


def memory_table(num_gpus: int) -> List[Dict[str, float]]:
    """GiB per GPU of each student with the teacher whole on every GPU.

    Args:
        num_gpus (int): GPUs FSDP shards over.

    Returns:
        list[dict]: One row a student: its name, parameters and GiB under
        DDP and FSDP in fp32 and mixed precision.
    """
    teacher = teacher_bytes(*count_teacher(), None)
    rows = []
    for name, student in STUDENTS.items():
        params, unit = count_parameters(
            student_cfg(**student), 'TransformerEncoderLayer')
        row = dict(student=name, params=params)
        for precision in ('fp32', 'mixed'):
            for method, gpus in (('DDP', None), ('FSDP', num_gpus)):
                row[f'{method} {precision}'] = (student_bytes(
                    params, unit, precision, gpus) + teacher) / GIB
        rows.append(row)
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--gpus', type=int, default=8, help='GPUs FSDP shards over')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    columns = ('DDP fp32', 'DDP mixed', 'FSDP fp32', 'FSDP mixed')
    print(f'Model-state memory per GPU (GiB), computed from parameter '
          f'counts, not measured; FSDP over {args.gpus} GPUs; the ResNet-50 '
          'teacher whole on every GPU; activations not counted.\n')
    print('| student | parameters | ' + ' | '.join(columns) + ' |')
    print('|---|---:|' + '---:|' * len(columns))
    for row in memory_table(args.gpus):
        print(f'| {row["student"]} | {row["params"] / 1e6:.1f} M | ' +
              ' | '.join(f'{row[column]:.2f}' for column in columns) + ' |')
    params, unit = count_teacher()
    print(f'\nResNet-50 teacher ({params / 1e6:.1f} M parameters, largest '
          f'Bottleneck {unit / 1e6:.2f} M): whole '
          f'{teacher_bytes(params, unit, None) / 2**20:.0f} MiB a GPU; '
          f'sharded forward-only over {args.gpus} GPUs '
          f'{teacher_bytes(params, unit, args.gpus) / 2**20:.0f} MiB at its '
          'peak, and an all-gather of its weights every step.')


if __name__ == '__main__':
    main()
