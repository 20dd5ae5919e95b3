# Copyright (c) mmw2s contributors. All rights reserved.
"""Load mmengine checkpoints with ``torch.load(weights_only=True)``.

mmengine's training checkpoints hold more than tensors: the message hub
keeps :class:`~mmengine.logging.HistoryBuffer` objects (with numpy arrays,
scalars and dtypes), and each buffer pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``. Since torch 2.6 ``torch.load`` refuses
every global outside its allowlist, so resuming fails. Instead of falling back
to ``weights_only=False`` (which runs arbitrary code from the file), we allow
exactly these globals, and ``builtins.getattr`` only in the one form mmengine
writes.
"""
import os.path as osp
import pickle
import re
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')
GETATTR_REFUSAL = 'is not allowed while loading a checkpoint'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a global that mmengine checkpoints never need."""


def _history_buffer_statistic(owner: type, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling a checkpoint.

    A pickled ``HistoryBuffer`` refers to its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. This resolves exactly those lookups
    and refuses every other use of ``getattr``.

    Args:
        owner (type): The object ``getattr`` is applied to.
        name (str): The attribute name.

    Returns:
        Callable: The statistics method of ``HistoryBuffer``.
    """
    if owner is HistoryBuffer and name in _HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'getattr({owner!r}, {name!r}) {GETATTR_REFUSAL}; '
        f'only HistoryBuffer.{{{", ".join(_HISTORY_BUFFER_STATISTICS)}}} '
        'is.')


def _numpy_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Numpy globals of arrays, scalars and dtypes, under numpy 1 and 2
    names."""
    multiarray = np.core.multiarray if not hasattr(
        np, '_core') else np._core.multiarray
    numeric_dtypes = [
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64')
    ]
    globals_: List[Union[Callable, Tuple[Callable, str]]] = [
        np.ndarray, np.dtype, *numeric_dtypes
    ]
    for function in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            globals_.append((function, f'{module}.{function.__name__}'))
    return globals_


def mmengine_checkpoint_globals(
) -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals an mmengine training checkpoint may contain, beyond what
    ``torch.load(weights_only=True)`` allows by itself.

    Returns:
        list: Entries in the form taken by
        :func:`torch.serialization.safe_globals`.
    """
    return [
        HistoryBuffer, (_history_buffer_statistic, 'builtins.getattr'),
        *_numpy_globals()
    ]


def _allowed_global_names() -> set:
    names = set()
    for entry in mmengine_checkpoint_globals():
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    return names


def _foreign_globals(filename: str) -> List[str]:
    """Names of the globals in ``filename`` that are not allowed."""
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # a legacy (non-zip) file cannot be scanned
        return []
    allowed = _allowed_global_names()
    return [name for name in found if name not in allowed]


def load_checkpoint_safely(filename: str,
                           map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint without executing code from it.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (Any, optional): Same as :func:`torch.load`.
            Defaults to None.

    Returns:
        Any: The loaded checkpoint, usually a dict.

    Raises:
        FileNotFoundError: ``filename`` is not a file.
        UnsafeCheckpointError: The file holds a global that mmengine
            checkpoints never contain. Nothing from the file was executed.
        RuntimeError: The file is truncated or not a zip-format torch
            checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} can not be '
                                'found.')
    try:
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        foreign = _foreign_globals(filename) or re.findall(
            r'Unsupported global: GLOBAL (\S+)', str(error))
        if GETATTR_REFUSAL in str(error):
            foreign.append('builtins.getattr (other than HistoryBuffer '
                           'statistics)')
        if not foreign:
            raise RuntimeError(
                f'Checkpoint {filename} could not be read: it is truncated or '
                f'not a torch checkpoint ({error}).') from error
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename}: it contains the '
            f'global(s) {", ".join(foreign)}, which mmengine checkpoints '
            'never need, so loading it could run code from the file. '
            'Nothing from it was executed. If you trust the file and know '
            'the global is harmless, allow it with '
            '`torch.serialization.add_safe_globals`. '
            f'Reason: {error}') from error
    except RuntimeError as error:
        if 'PytorchStreamReader' not in str(error):
            raise
        raise RuntimeError(
            f'Checkpoint {filename} could not be read: it is truncated or '
            f'not a torch checkpoint ({error}).') from error
