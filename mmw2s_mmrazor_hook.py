# Copyright (c) mmw2s contributors. All rights reserved.
"""mmrazor 1.0.0 on torch >= 2.1: its quantization switched off, by an import
hook, before anything imports mmrazor.

mmrazor <= 1.0.0 imports ``reverse2`` & co. from ``torch.ao.quantization``,
which torch 2.1 removed. Its quantization package then fails at import time
and takes ``import mmrazor.models`` with it, and with that every mmrazor
tool, reported as "`torch>=1.13` is not installed properly". The work-around
puts placeholders in place of that package; using one raises
:class:`QuantizationUnavailableError`. It switches itself off where mmrazor
is newer than 1.0.0 or torch still has ``reverse2``.

This module stands outside the ``mmw2s`` package so that it imports without
mmw2s, which imports mmrazor. Installing mmw2s installs
``mmw2s_mmrazor_hook.pth``, which calls :func:`install` when the interpreter
starts: the first import of mmrazor, by mmrazor's own ``tools/train.py`` or
``mim train mmrazor`` too, applies the work-around first. Without the hook (a
clone on ``PYTHONPATH``), ``import mmw2s`` applies it (:mod:`mmw2s.compat`).
"""
# only sys at import: this module is imported whenever Python starts
import sys

QUANTIZATION_MODULES = ('mmrazor.structures.quantization',
                        'mmrazor.structures.quantization.backend_config',
                        'mmrazor.structures.quantization.qconfig')


class QuantizationUnavailableError(ImportError):
    """mmrazor's quantization cannot run on the installed torch."""


def _unavailable_message(name: str) -> str:
    import importlib.metadata

    import torch
    return (f'mmrazor quantization (`{name}`) is unavailable: mmrazor '
            f'{importlib.metadata.version("mmrazor")} uses torch.ao names '
            '(reverse2, reverse3, reverse_sequential_wrapper2, '
            'BackendPatternConfig._set_overwrite_output_fake_quantize) that '
            f'torch {torch.__version__} no longer has, so mmw2s disabled it '
            'to let the rest of mmrazor import. Distillation is not '
            'affected. Use torch < 2.1 for mmrazor quantization.')


class _UnavailableMeta(type):
    """Makes every use of a placeholder class raise a clear error."""

    def __call__(cls, *args, **kwargs):
        raise QuantizationUnavailableError(_unavailable_message(cls.__name__))

    def __getattr__(cls, attribute: str):
        if attribute.startswith('__'):
            raise AttributeError(attribute)
        raise QuantizationUnavailableError(
            _unavailable_message(f'{cls.__name__}.{attribute}'))

    def __getitem__(cls, key):
        raise QuantizationUnavailableError(
            _unavailable_message(f'{cls.__name__}[{key!r}]'))


class _UnavailableModule(type(sys)):
    """Stands in for mmrazor's quantization structures; any name imported
    from it is a placeholder that raises
    :class:`QuantizationUnavailableError` when used."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        return _UnavailableMeta(name, (), {'__module__': self.__name__})


def mmrazor_quantization_is_broken() -> bool:
    """Whether mmrazor's quantization fails to import: mmrazor <= 1.0.0 on a
    torch without ``fuser_method_mappings.reverse2`` (torch >= 2.1).

    Returns:
        bool: True where the work-around is needed.
    """
    import importlib.metadata
    try:
        mmrazor_version = importlib.metadata.version('mmrazor')
    except importlib.metadata.PackageNotFoundError:
        return False
    from mmengine.utils import digit_version
    from torch.ao.quantization import fuser_method_mappings
    return (digit_version(mmrazor_version) <= digit_version('1.0.0')
            and not hasattr(fuser_method_mappings, 'reverse2'))


def disable_mmrazor_quantization() -> None:
    """Put the placeholders in place of mmrazor's quantization structures
    (once: a second call leaves them)."""
    for name in QUANTIZATION_MODULES:
        if name not in sys.modules:
            module = _UnavailableModule(name)
            module.__all__ = []
            module.__path__ = []
            sys.modules[name] = module


class MmrazorImportHook:
    """A :data:`sys.meta_path` finder that finds nothing: when mmrazor is
    first looked for, it removes itself and applies the work-around where
    needed, then lets the usual finders import mmrazor."""

    def find_spec(self, fullname: str, path=None, target=None) -> None:
        if fullname == 'mmrazor' and self in sys.meta_path:
            sys.meta_path.remove(self)
            if mmrazor_quantization_is_broken():
                disable_mmrazor_quantization()
        return None


def install() -> 'MmrazorImportHook | None':
    """Put the hook first in :data:`sys.meta_path`, unless mmrazor is
    already imported or the hook installed (a site directory can be on the
    path twice, e.g. a venv's ``lib64`` link to ``lib``).

    Returns:
        MmrazorImportHook | None: The installed hook, or None.
    """
    if 'mmrazor' in sys.modules or any(
            isinstance(finder, MmrazorImportHook) for finder in sys.meta_path):
        return None
    hook = MmrazorImportHook()
    sys.meta_path.insert(0, hook)
    return hook
