# Copyright (c) mmw2s contributors. All rights reserved.
import dataclasses
import logging
import re
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine._strategy import FSDPStrategy, SingleDeviceStrategy
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, BaseOptimWrapper
from mmengine.registry import OPTIM_WRAPPERS, STRATEGIES
from torch import nn
from torch.distributed.checkpoint.state_dict import (StateDictOptions,
                                                     get_model_state_dict,
                                                     get_optimizer_state_dict,
                                                     set_model_state_dict,
                                                     set_optimizer_state_dict)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.optim import Optimizer


def _mixed_precision_policy(
        mp_policy: Optional[Dict[str, str]]) -> MixedPrecisionPolicy:
    """A :class:`MixedPrecisionPolicy` from dtype names, e.g.
    ``dict(param_dtype='bfloat16', reduce_dtype='float32')``."""
    if mp_policy is None:
        return MixedPrecisionPolicy()
    dtypes = {}
    for key, name in mp_policy.items():
        dtype = getattr(torch, str(name), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f'mp_policy.{key}={name!r} is not a torch dtype '
                             "name; expected e.g. 'bfloat16' or 'float32'.")
        dtypes[key] = dtype
    return MixedPrecisionPolicy(**dtypes)


def check_mixed_precision(student: nn.Module,
                          mp_policy: MixedPrecisionPolicy) -> None:
    """Refuse a low-precision ``param_dtype`` for a student with BatchNorm:
    its running statistics stay fp32 beside the cast weights, which torch's
    ``batch_norm`` refuses ("expected scalar type BFloat16 but found Float",
    torch 2.14 on CPU) at the first step; and for a student without a
    ``backbone`` (an mmpretrain ``ImageClassifier`` has one), the part that
    computes in ``param_dtype`` while its head stays fp32.

    Args:
        student (nn.Module): The model trained.
        mp_policy (MixedPrecisionPolicy): Its mixed precision.
    """
    if mp_policy.param_dtype in (None, torch.float32):
        return
    norms = [
        name for name, module in student.named_modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm)
    ]
    if norms:
        dtype = mp_policy.param_dtype
        raise ValueError(
            f'FullyShardStrategy: mp_policy.param_dtype={dtype} with '
            f'BatchNorm in the student ({norms[0]}, {len(norms)} in all), '
            'whose fp32 running statistics batch_norm refuses beside cast '
            'weights; train this student without mp_policy (fp32).')
    if not isinstance(getattr(student, 'backbone', None), nn.Module):
        raise ValueError(
            f'FullyShardStrategy: mp_policy.param_dtype='
            f'{mp_policy.param_dtype} needs a student with a backbone (as '
            f'an mmpretrain ImageClassifier), got {type(student).__name__}; '
            'its backbone computes in param_dtype, its head in fp32.')


def key_mismatch(missing: Sequence[str], unexpected: Sequence[str]) -> str:
    """mmengine's message for a state dict that does not match its model
    (empty when it does)."""
    lines = []
    if unexpected:
        lines.append('unexpected key in source state_dict: '
                     f'{", ".join(unexpected)}\n')
    if missing:
        lines.append(
            f'missing keys in source state_dict: {", ".join(missing)}\n')
    if not lines:
        return ''
    return '\n'.join(
        ['The model and loaded state dict do not match exactly\n'] + lines)


@STRATEGIES.register_module()
class FullyShardStrategy(FSDPStrategy):
    """Train with torch's ``fully_shard`` (FSDP2) under ``FlexibleRunner``.

    Differences from mmengine's :class:`FSDPStrategy` (torch's first FSDP,
    which needs an accelerator):

    - each submodule of a type in ``shard_module_types`` (e.g. the
      ``TransformerEncoderLayer`` blocks of a ViT) is one sharded unit, the
      rest of the student's backbone (embeddings, final norm) another, the
      rest of the student (neck, head) another, and the rest of the model
      (the distiller's connectors) the root unit;
    - under ``mp_policy`` the blocks and the backbone compute in its
      ``param_dtype`` and the backbone hands fp32 features on: the head,
      its loss and the logits the distill losses read are fp32, as
      autocast computes softmax and cross-entropy;
    - the frozen teacher of a distillation algorithm (``model.teacher``) is
      kept out of the sharded, trained parameters: it stays whole on every
      rank, in eval mode, never given gradients or optimizer state;
    - checkpoints hold full, unsharded state dicts gathered to rank 0
      (``torch.distributed.checkpoint.state_dict``), keyed as the unwrapped
      model's, so they load without FSDP and
      ``tools/model_converters/w2s_to_student.py`` reads them;
    - it runs on CPU with gloo as on GPUs with NCCL, and in one process
      without a launcher it leaves the model whole.

    Args:
        shard_module_types (Sequence[str]): Class names of the submodules
            each sharded as one unit. Defaults to
            ``('TransformerEncoderLayer', )``.
        mp_policy (dict, optional): Arguments of torch's
            ``MixedPrecisionPolicy`` with dtype names, e.g.
            ``dict(param_dtype='bfloat16', reduce_dtype='float32')``, for the
            student's backbone (one without BatchNorm, e.g. a ViT); its head
            and the teacher run in fp32. Defaults to None (fp32).
        reshard_after_forward (bool): Free the gathered parameters of a
            unit after its forward (ZeRO-3) rather than keeping them for the
            backward (ZeRO-2). Defaults to True.
        **kwargs: ``skip_init_weights`` and the arguments of
            :class:`DDPStrategy` (``sync_bn``, ``work_dir``, ...), not its
            ``model_wrapper``.
    """

    def __init__(self,
                 *,
                 shard_module_types: Sequence[str] = (
                     'TransformerEncoderLayer', ),
                 mp_policy: Optional[Dict[str, str]] = None,
                 reshard_after_forward: bool = True,
                 **kwargs) -> None:
        for option in ('model_wrapper', 'state_dict_cfg',
                       'activation_checkpointing'):
            if option in kwargs:
                raise ValueError(
                    f'FullyShardStrategy does not take {option}= (an option '
                    "of mmengine's FSDPStrategy, torch's first FSDP); it "
                    'shards with shard_module_types, mp_policy and '
                    'reshard_after_forward and saves full state dicts.')
        self.mp_policy = _mixed_precision_policy(mp_policy)
        super().__init__(state_dict_cfg='full', **kwargs)
        self.shard_module_types = tuple(shard_module_types)
        self.reshard_after_forward = reshard_after_forward

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        """Shard the model in place, unit by unit, leaving the teacher
        whole.

        Args:
            model (nn.Module): The built model.

        Returns:
            nn.Module: The same model, now an ``FSDPModule``; in a single
            process without a launcher (``tools/test.py CONFIG CKPT``), the
            model unsharded, as :class:`SingleDeviceStrategy` has it.
        """
        if not self.distributed:
            self.logger.info('FullyShardStrategy: not distributed, so the '
                             'model is not sharded.')
            return SingleDeviceStrategy._wrap_model(self, model)
        model = self.convert_model(model)
        device = get_device()
        mesh = init_device_mesh(device, (self.world_size, ))
        teacher = getattr(model, 'teacher', None)
        frozen = set(teacher.parameters()) if teacher is not None else set()
        if teacher is not None:
            teacher.to(device)  # fully_shard moves only what it shards
        check_mixed_precision(getattr(model, 'student', model), self.mp_policy)
        units = self._units(model, frozen)
        unit_names = Counter(type(unit).__name__ for unit, _ in units)
        for unit, mp_policy in units:
            fully_shard(
                unit,
                mesh=mesh,
                mp_policy=mp_policy,
                reshard_after_forward=self.reshard_after_forward)
        # the root computes in fp32 (the default policy): the teacher is
        # given its inputs, the distill losses the logits
        fully_shard(
            model,
            mesh=mesh,
            reshard_after_forward=self.reshard_after_forward,
            ignored_params=frozen)
        self._log_sharding(model, unit_names, frozen)
        return model

    def _units(self, model: nn.Module,
               frozen: set) -> List[Tuple[nn.Module, MixedPrecisionPolicy]]:
        """The modules sharded before the root, children before parents
        (as fully_shard needs), with their mixed precision: the blocks of
        ``shard_module_types`` and the student's backbone in ``mp_policy``
        (the backbone's outputs cast to fp32), then the student of a
        distillation algorithm in fp32."""
        units = [
            module for module in reversed(list(model.modules()))
            if type(module).__name__ in self.shard_module_types and not any(
                param in frozen for param in module.parameters())
        ]
        if self.shard_module_types and not units:
            raise ValueError(
                'FullyShardStrategy: no trained submodule of type '
                f'{self.shard_module_types} (shard_module_types) in '
                f'{type(model).__name__}; name the class of its blocks, '
                "e.g. 'TransformerEncoderLayer' for mmpretrain's ViT.")
        units = [(unit, self.mp_policy) for unit in units]
        student = getattr(model, 'student', model)
        backbone = getattr(student, 'backbone', None)
        if isinstance(backbone, nn.Module):
            units.append((backbone,
                          dataclasses.replace(
                              self.mp_policy, output_dtype=torch.float32)))
        if student is not model:
            units.append((student, MixedPrecisionPolicy()))
        return units

    def _log_sharding(self, model: nn.Module, unit_names: Counter,
                      frozen: set) -> None:
        """Log the units and the parameters this rank holds of the sharded
        part and of the whole teacher."""
        sharded = [
            param for param in model.parameters() if param not in frozen
        ]
        held = sum(param.to_local().numel() for param in sharded)
        self.logger.info(
            'FullyShardStrategy: sharded ' +
            ', '.join(f'{count} {name}'
                      for name, count in unit_names.items()) +
            f' and the root; this rank holds {held} '
            f'of {sum(param.numel() for param in sharded)} sharded '
            f'parameters over {self.world_size} ranks, and all '
            f'{sum(param.numel() for param in frozen)} parameters of the '
            'frozen teacher (in eval mode, without gradients); student '
            f'precision: {self.mp_policy}.')

    def build_optim_wrapper(
        self,
        optim_wrapper: Union[Optimizer, BaseOptimWrapper, dict],
        model: Optional[nn.Module] = None,
    ) -> BaseOptimWrapper:
        """Build the optim wrapper from its config, on the sharded
        parameters.

        What :class:`FSDPStrategy` does for torch's first FSDP is refused:
        rebuilding a built optimizer or optim wrapper (its parameters are
        the unsharded ones) with ``FSDP.optim_state_dict_to_load``, and
        ``AmpOptimWrapper`` (``--amp``), autocast and a
        ``ShardedGradScaler`` on top of ``mp_policy``.

        Args:
            optim_wrapper (Optimizer | BaseOptimWrapper | dict): The
                ``optim_wrapper`` config with its ``optimizer`` (or
                ``constructor``).
            model (nn.Module, optional): The sharded model.

        Returns:
            BaseOptimWrapper: The optim wrapper.
        """
        if not isinstance(optim_wrapper, (dict, Config)) or not (
                'optimizer' in optim_wrapper
                or 'constructor' in optim_wrapper):
            raise TypeError(
                'FullyShardStrategy: optim_wrapper must be a config with an '
                f'optimizer (or a constructor), got '
                f'{type(optim_wrapper).__name__} {optim_wrapper!r:.200}: a '
                'built optimizer holds the parameters before sharding.')
        wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
        if isinstance(wrapper_type, str):
            wrapper_type = OPTIM_WRAPPERS.get(wrapper_type)
        if isinstance(wrapper_type, type) and issubclass(
                wrapper_type, AmpOptimWrapper):
            raise ValueError(
                f'FullyShardStrategy: optim_wrapper.type='
                f'{wrapper_type.__name__} (--amp) is not supported; set '
                "strategy.mp_policy=dict(param_dtype='bfloat16', "
                "reduce_dtype='float32') for mixed precision (a student "
                'without BatchNorm) with optim_wrapper.type=OptimWrapper.')
        return super().build_optim_wrapper(optim_wrapper, model)

    def model_state_dict(self) -> dict:
        """The full state dict of the model on rank 0 (on CPU), an empty
        dict on the other ranks; every rank must call it."""
        return get_model_state_dict(
            self.model,
            options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    def optim_state_dict(self) -> dict:
        """The full optimizer state, keyed by parameter names, with the
        optim wrapper's own entries (e.g. AMP's ``loss_scaler``), on rank 0;
        every rank must call it."""
        state_dict = {
            key: value
            for key, value in self.optim_wrapper.state_dict().items()
            if key not in ('state', 'param_groups')
        }
        state_dict.update(
            get_optimizer_state_dict(
                self.model,
                self.optim_wrapper.optimizer,
                options=StateDictOptions(
                    full_state_dict=True, cpu_offload=True)))
        return state_dict

    def load_model_state_dict(self,
                              state_dict: dict,
                              *,
                              strict: bool = False,
                              revise_keys: list = [(r'^module.', '')]
                              ) -> None:  # yapf: disable
        """Shard a full state dict (every rank holds it) into the model.

        Keys the model has and the state dict lacks (missing), and keys it
        has and the model lacks (unexpected), are named as mmengine's
        loader names them: in a warning, or in the error with ``strict``.
        (torch's ``set_model_state_dict`` with full state dicts reports
        no missing key at all.)

        Args:
            state_dict (dict): Full state dict, keyed as the unwrapped model.
            strict (bool): Whether every key must match. Defaults to False.
            revise_keys (list): ``(pattern, replacement)`` pairs applied to
                the keys first. Defaults to stripping ``module.``.
        """
        for pattern, replacement in revise_keys:
            state_dict = {
                re.sub(pattern, replacement, key): value
                for key, value in state_dict.items()
            }
        own = set(self.model.state_dict())
        mismatch = key_mismatch(
            missing=sorted(own - set(state_dict)),
            unexpected=sorted(set(state_dict) - own))
        if mismatch and strict:
            raise RuntimeError(mismatch)
        if mismatch:
            print_log(mismatch, logger='current', level=logging.WARNING)
        set_model_state_dict(
            self.model, {
                key: value
                for key, value in state_dict.items() if key in own
            },
            options=StateDictOptions(full_state_dict=True, strict=False))

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Shard a full optimizer state dict (keyed by parameter names) into
        the optimizer, then give the optim wrapper its own entries.

        Args:
            state_dict (dict): As :meth:`optim_state_dict` returns it.
        """
        optimizer_state = {
            key: state_dict.pop(key)
            for key in ('state', 'param_groups')
        }
        set_optimizer_state_dict(
            self.model,
            self.optim_wrapper.optimizer,
            optimizer_state,
            options=StateDictOptions(full_state_dict=True))
        if state_dict:
            # the wrapper takes its entries along with its optimizer's state,
            # which is the sharded state just set
            self.optim_wrapper.load_state_dict(
                dict(self.optim_wrapper.optimizer.state_dict(), **state_dict))
