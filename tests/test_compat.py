# Copyright (c) mmw2s contributors. All rights reserved.
import importlib.metadata
import importlib.util
import inspect
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.utils import digit_version

import mmw2s
from mmw2s.compat import (QuantizationUnavailableError, get_installed_path,
                          is_installed)


def test_mmrazor_distillation_imports_on_current_torch():
    from mmrazor.models import (ConfigurableDistiller, KLDivergence,
                                SingleTeacherDistill)
    from mmrazor.registry import MODELS
    assert MODELS.get('SingleTeacherDistill') is SingleTeacherDistill
    assert MODELS.get('ConfigurableDistiller') is ConfigurableDistiller
    assert MODELS.get('KLDivergence') is KLDivergence


def test_patches_are_active_exactly_where_upstream_is_broken():
    from torch.ao.quantization import fuser_method_mappings
    patches = mmw2s.apply_compat_patches()
    assert patches['mmrazor_quantization'] == (not hasattr(
        fuser_method_mappings, 'reverse2'))
    assert patches['mmengine_package_lookup'] == (
        importlib.util.find_spec('pkg_resources') is None)
    assert patches['mmengine_safe_checkpoints'] == (
        digit_version(torch.__version__) >= digit_version('2.6.0'))
    assert patches['mmengine_cpu_distributed'] == (
        not torch.cuda.is_available())
    from mmengine.runner.checkpoint import load_from_http
    assert patches['mmengine_safe_urls'] == (
        'weights_only' not in inspect.getsource(load_from_http))


def test_mmrazor_quantization_raises_a_clear_error():
    if not mmw2s.apply_compat_patches()['mmrazor_quantization']:
        pytest.skip('mmrazor quantization works with this torch')
    from mmrazor.registry import MODELS
    qscheme = dict(qdtype='qint8', bit=8, is_symmetry=True)
    quantizer = dict(
        type='mmrazor.TorchNativeQuantizer',
        global_qconfig=dict(
            w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
            a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
            w_fake_quant=dict(type='mmrazor.FakeQuantize'),
            a_fake_quant=dict(type='mmrazor.FakeQuantize'),
            w_qscheme=qscheme,
            a_qscheme=qscheme))
    with pytest.raises(
            QuantizationUnavailableError,
            match='mmrazor quantization .* is unavailable'):
        MODELS.build(quantizer)
    from mmrazor.structures.quantization import BackendConfigs
    with pytest.raises(QuantizationUnavailableError, match='unavailable'):
        BackendConfigs['native']


def test_package_lookup_without_pkg_resources():
    assert is_installed('mmpretrain')
    assert is_installed('mmcv')
    assert not is_installed('mmcls')
    path = get_installed_path('mmpretrain')
    assert osp.isfile(osp.join(path, '__init__.py'))
    assert osp.basename(path) == 'mmpretrain'


def test_pkg_config_references_resolve(tmp_path):
    config_file = tmp_path / 'inherit.py'
    config_file.write_text(
        "_base_ = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'\n"
        'train_cfg = dict(max_epochs=1)\n')
    cfg = Config.fromfile(str(config_file))
    assert cfg.model.backbone.type == 'ResNet'
    assert cfg.model.backbone.depth == 18
    assert cfg.train_cfg.max_epochs == 1

    teacher = Config.fromfile(str(config_file))
    teacher.merge_from_dict(
        dict(model=dict(backbone=dict(depth=34))), allow_list_keys=False)
    assert teacher.model.backbone.depth == 34


def test_cfg_path_references_build_a_model():
    from mmengine.hub import get_config
    cfg = get_config('mmpretrain::resnet/resnet18_8xb32_in1k.py')
    assert cfg.model.head.num_classes == 1000


class _Payload:
    """An object whose unpickling would run code (os.getcwd here)."""

    def __reduce__(self):
        import os
        return (os.getcwd, ())


def test_active_patches_are_installed_where_mmengine_calls_them(tmp_path):
    """Each active patch changes what mmengine itself does, not only a
    flag: checked through mmengine's own entry points."""
    import mmengine.config.config as config_module
    import mmengine.dist.utils as dist_utils
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.checkpoint import _load_checkpoint

    from mmw2s import compat
    from mmw2s.utils import UnsafeCheckpointError
    patches = mmw2s.apply_compat_patches()
    if patches['mmengine_package_lookup']:
        assert config_module.get_installed_path is compat.get_installed_path
    if patches['mmengine_safe_checkpoints']:
        unsafe = str(tmp_path / 'unsafe.pth')
        torch.save(dict(state_dict={}, meta=_Payload()), unsafe)
        with pytest.raises(UnsafeCheckpointError):
            _load_checkpoint(unsafe, map_location='cpu')
        safe = str(tmp_path / 'safe.pth')
        torch.save(dict(state_dict=dict(w=torch.ones(2))), safe)
        assert torch.equal(
            _load_checkpoint(safe, map_location='cpu')['state_dict']['w'],
            torch.ones(2))
    if patches['mmengine_cpu_distributed']:
        assert dist_utils._init_dist_pytorch.__name__ == \
            'init_dist_pytorch_on_cpu'
    if patches['mmengine_atomic_writes']:
        assert LocalBackend.put.__name__ == 'put_atomically'
    assert patches['retired_mmcls_references']
    with pytest.raises(Exception, match='mmpretrain'):
        config_module.Config.fromfile(
            _write(tmp_path / 'old.py',
                   "_base_ = 'mmcls::resnet/resnet18_8xb32_in1k.py'\n"))


def _write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_config_text_is_formatted_once_as_mmengine_formats_it(monkeypatch):
    """Checkpoints store ``cfg.pretty_text``: its yapf formatting is done
    once per text, with mmengine's own result, and never stale."""
    import mmengine.config.config as config_module
    from yapf.yapflib.yapf_api import FormatCode
    patches = mmw2s.apply_compat_patches()
    assert patches['mmengine_config_formatting'] == (digit_version(
        importlib.metadata.version('mmengine')) <= digit_version('0.10.7'))
    if not patches['mmengine_config_formatting']:
        pytest.skip('this mmengine formats its configs without the patch')
    cfg = Config(
        dict(
            teacher_ckpt='/a/long/path/' * 12 + 'epoch_90.pth',
            model=dict(type='ImageClassifier', layers=[1, 2, 3])))
    before = config_module.FormatCode.cache_info()
    text = cfg.pretty_text
    assert cfg.pretty_text == text
    after = config_module.FormatCode.cache_info()
    assert after.hits - before.hits >= 1
    assert after.misses - before.misses <= 1
    with monkeypatch.context() as unpatched:
        unpatched.setattr(config_module, 'FormatCode', FormatCode)
        assert cfg.pretty_text == text
    cfg.model.layers = [4]
    assert 'layers=[\n        4,\n    ]' in cfg.pretty_text
