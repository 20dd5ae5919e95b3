# Copyright (c) mmw2s contributors. All rights reserved.
"""Every work-around for the upstream stack, in one place.

:func:`apply_compat_patches` runs on ``import mmw2s``, before mmrazor's
models are imported. Each patch states the upstream problem, the versions it
concerns, and the condition under which it switches itself off.

===========================  ==============================================
patch                        active when
===========================  ==============================================
mmrazor_quantization         mmrazor <= 1.0.0 and torch without
                             ``fuser_method_mappings.reverse2`` (torch>=2.1);
                             written in ``mmw2s_mmrazor_hook.py``, outside
                             the package, whose import hook applies it
                             before any import of mmrazor
mmengine_package_lookup      ``pkg_resources`` cannot be imported
                             (setuptools >= 81)
mmengine_safe_checkpoints    torch >= 2.6 (``torch.load`` defaults to
                             ``weights_only=True``)
mmengine_safe_urls           mmengine's ``load_from_http`` loads with torch's
                             ``load_state_dict_from_url``, whose
                             ``weights_only`` defaults to False (mmengine
                             <= 0.10.7, every torch): a checkpoint by URL
                             could run code
mmengine_cpu_distributed     no CUDA device (mmengine <= 0.10.7 always calls
                             ``torch.cuda.set_device``)
mmengine_atomic_writes       mmengine <= 0.10.7 (``LocalBackend.put`` writes
                             checkpoints in place)
mmengine_config_formatting   mmengine <= 0.10.7 (it formats the whole
                             config with yapf each time its text is read:
                             at every checkpoint)
retired_mmcls_references     always: ``mmcls::`` config references get an
                             error that names ``mmpretrain::``
===========================  ==============================================
"""
import functools
import importlib.metadata
import importlib.util
import inspect
import os
import os.path as osp
import tempfile
import urllib.parse
from typing import Dict, Optional

import torch
from mmengine.utils import digit_version

# QuantizationUnavailableError: users catch it from here
from mmw2s_mmrazor_hook import QuantizationUnavailableError  # noqa: F401
from mmw2s_mmrazor_hook import (disable_mmrazor_quantization,
                                mmrazor_quantization_is_broken)


def _module_name_of(package: str) -> str:
    """The top-level module a distribution installs (``mmcv-lite`` ->
    ``mmcv``)."""
    try:
        top_level = importlib.metadata.distribution(package).read_text(
            'top_level.txt')
    except importlib.metadata.PackageNotFoundError:
        return package
    if top_level and top_level.split():
        return top_level.split()[0]
    return package.replace('-', '_')


def is_installed(package: str) -> bool:
    """Whether a distribution or top-level module named ``package`` exists.

    Args:
        package (str): Distribution or module name.

    Returns:
        bool: True if it is installed.
    """
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """The directory of the module installed by ``package``.

    Args:
        package (str): Distribution or module name.

    Returns:
        str: Directory of the package's top-level module.
    """
    spec = importlib.util.find_spec(_module_name_of(package))
    if spec is None:
        raise importlib.metadata.PackageNotFoundError(
            f'{package} is not installed; install it with pip.')
    if spec.origin is None:
        raise RuntimeError(f'{package} is a namespace package, which is '
                           'invalid for `get_installed_path`')
    return osp.dirname(spec.origin)


def _use_importlib_for_package_lookup() -> None:
    """mmengine <= 0.10.7 resolves ``pkg::`` config paths with
    ``pkg_resources``, which setuptools 81 removed. Answer the same questions
    with :mod:`importlib.metadata`. mmengine's modules bound the helpers by
    name at import, so each binding is replaced."""
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    for module in (package_utils, utils_module, config_module, hub_module):
        if hasattr(module, 'is_installed'):
            module.is_installed = is_installed
        module.get_installed_path = get_installed_path
    package_utils.package2module = _module_name_of


def _load_local_checkpoints_safely() -> None:
    """mmengine <= 0.10.7 calls ``torch.load`` without ``weights_only``; torch
    2.6 made ``True`` the default, so full training checkpoints (message hub
    with HistoryBuffer and numpy objects) fail to load and ``--resume`` breaks.
    Load local files with exactly the globals mmengine checkpoints need."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmw2s.utils.safe_checkpoint import load_checkpoint_safely

    def load_from_local_safely(filename, map_location):
        return load_checkpoint_safely(filename, map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)


def _url_checkpoints_are_unsafe() -> bool:
    """Whether mmengine's ``load_from_http`` leaves ``weights_only`` to
    torch's ``load_state_dict_from_url`` (default False)."""
    from mmengine.runner import checkpoint
    return 'weights_only' not in inspect.getsource(checkpoint.load_from_http)


def download_checkpoint(url: str, model_dir: Optional[str] = None) -> str:
    """The local copy of the checkpoint at ``url``: downloaded once into
    ``model_dir`` (default: torch hub's ``checkpoints`` directory), by rank
    0 first in a distributed run, as mmengine's ``load_from_http`` does."""
    from mmengine.dist import get_dist_info

    directory = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(directory, osp.basename(urllib.parse.urlparse(url).path))

    def download() -> None:
        if not osp.isfile(path):
            os.makedirs(directory, exist_ok=True)
            torch.hub.download_url_to_file(url, path, progress=False)

    rank, world_size = get_dist_info()
    if rank == 0:
        download()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            download()
    return path


def _load_url_checkpoints_safely() -> None:
    """Load ``http://`` and ``https://`` checkpoints (``Pretrained`` inits,
    ``load_from``) as local ones: downloaded, then unpickled with exactly
    the globals mmengine checkpoints need."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmw2s.utils.safe_checkpoint import load_checkpoint_safely

    def load_from_http_safely(filename, map_location=None):
        return load_checkpoint_safely(
            download_checkpoint(filename), map_location)

    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'),
        loader=load_from_http_safely,
        force=True)


def _distribute_on_cpu() -> None:
    """mmengine <= 0.10.7 calls ``torch.cuda.set_device`` when it starts a
    ``pytorch`` launcher job and passes ``device_ids`` to DDP, both of which
    fail without a GPU. Without CUDA, start the process group with gloo and
    wrap CPU modules without ``device_ids``."""
    import mmengine.dist.utils as dist_utils
    from mmengine.logging import print_log
    from mmengine.model import MMDistributedDataParallel

    def init_dist_pytorch_on_cpu(backend: str = 'gloo', **kwargs) -> None:
        if backend != 'gloo':
            print_log(
                f'No CUDA device: using the gloo backend instead of '
                f'{backend}.',
                logger='current')
        kwargs.pop('init_backend', None)
        torch.distributed.init_process_group(backend='gloo', **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch_on_cpu

    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(ddp_init)
    def init_without_device_ids(self,
                                module,
                                *args,
                                device_ids=None,
                                **kwargs):
        ddp_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = init_without_device_ids


def _write_local_files_atomically() -> None:
    """mmengine <= 0.10.7 writes checkpoints in place, so a run killed
    while saving leaves a truncated ``epoch_N.pth`` behind. Write to a
    temporary file in the same directory, flush it to disk, then rename it
    over the target: readers see the old file or the whole new one."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    def put_atomically(self, obj: bytes, filepath) -> None:
        directory = osp.dirname(osp.abspath(filepath))
        os.makedirs(directory, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
        try:
            with os.fdopen(descriptor, 'wb') as file:
                file.write(obj)
                file.flush()
                os.fsync(file.fileno())
            # as open() would create it
            os.chmod(temporary, 0o666 & ~current_umask())
            os.replace(temporary, filepath)
        except BaseException:
            if osp.exists(temporary):
                os.remove(temporary)
            raise

    LocalBackend.put = put_atomically


def current_umask() -> int:
    """The process's umask, read without changing it (Linux's
    /proc/self/status). Elsewhere it is read by setting and restoring it,
    which other threads may see for an instant."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o077)  # the strictest value while it is read
    os.umask(umask)
    return umask


def _format_each_config_text_once() -> None:
    """mmengine <= 0.10.7 formats the whole config with yapf each time its
    text is read, and ``Runner.save_checkpoint`` reads it for every
    checkpoint: about 0.1 s for a short config, over 1 s for one whose long
    paths yapf must split. The formatting is a pure function of the text
    and the style, so the results are remembered (the same text out)."""
    import mmengine.config.config as config_module
    format_code = config_module.FormatCode

    @functools.lru_cache(maxsize=16)
    def format_text(source: str, style: tuple, options: tuple) -> tuple:
        return format_code(source, style_config=dict(style), **dict(options))

    @functools.wraps(format_code)
    def format_code_once(source: str, style_config=None, **options):
        if not isinstance(style_config, dict):
            return format_code(source, style_config=style_config, **options)
        return format_text(source, tuple(sorted(style_config.items())),
                           tuple(sorted(options.items())))

    format_code_once.cache_info = format_text.cache_info
    config_module.FormatCode = format_code_once


def _explain_retired_mmcls() -> None:
    """``mmcls::`` references fail deep inside mmengine (which may even
    try to pip-install mmcls): mmcls was renamed mmpretrain. Say so."""
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    from mmengine.config.utils import _get_package_and_cfg_path

    @functools.wraps(_get_package_and_cfg_path)
    def package_and_cfg_path(cfg_path: str):
        if cfg_path.startswith('mmcls::'):
            raise ValueError(
                f'{cfg_path!r} refers to mmcls, the retired name of '
                'mmpretrain: write mmpretrain::'
                f'{cfg_path[len("mmcls::"):]} (mmcls configs live on in '
                'mmpretrain, some under new names).')
        return _get_package_and_cfg_path(cfg_path)

    config_module._get_package_and_cfg_path = package_and_cfg_path
    hub_module._get_package_and_cfg_path = package_and_cfg_path


def _cuda_is_absent() -> bool:
    from mmengine.device import get_device
    return get_device() == 'cpu'


_APPLIED: Dict[str, bool] = {}


def apply_compat_patches() -> Dict[str, bool]:
    """Apply each work-around whose upstream problem is present, once.

    Returns:
        dict: For each patch name, whether it is active.
    """
    if _APPLIED:
        return dict(_APPLIED)
    patches = (
        ('mmrazor_quantization', mmrazor_quantization_is_broken,
         disable_mmrazor_quantization),
        ('mmengine_package_lookup',
         lambda: importlib.util.find_spec('pkg_resources') is None,
         _use_importlib_for_package_lookup),
        ('mmengine_safe_checkpoints',
         lambda: digit_version(torch.__version__) >= digit_version('2.6.0'),
         _load_local_checkpoints_safely),
        ('mmengine_safe_urls', _url_checkpoints_are_unsafe,
         _load_url_checkpoints_safely),
        ('mmengine_cpu_distributed', _cuda_is_absent, _distribute_on_cpu),
        ('mmengine_atomic_writes', lambda: digit_version(
            importlib.metadata.version('mmengine')) <= digit_version('0.10.7'),
         _write_local_files_atomically),
        ('mmengine_config_formatting', lambda: digit_version(
            importlib.metadata.version('mmengine')) <= digit_version('0.10.7'),
         _format_each_config_text_once),
        ('retired_mmcls_references', lambda: True, _explain_retired_mmcls),
    )
    for name, is_needed, apply in patches:
        needed = is_needed()
        if needed:
            apply()
        _APPLIED[name] = needed
    return dict(_APPLIED)
