# Copyright (c) mmw2s contributors. All rights reserved.
import copy
import functools
import http.server
import os
import os.path as osp
import threading

import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import TEST_CONFIGS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import mmw2s  # noqa: F401
from mmw2s.utils import UnsafeCheckpointError, load_checkpoint_safely
from mmw2s.utils.safe_checkpoint import _history_buffer_statistic


class RunsACommand:
    """Unpickling this object would run ``touch marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class LooksUpAnotherAttribute:
    """Unpickling this object would call ``getattr(HistoryBuffer,
    'register_statistics')``."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, 'register_statistics')


def full_training_checkpoint() -> dict:
    """A checkpoint with what mmengine's runner saves: message hub with
    HistoryBuffers of numpy values, numpy scalars, optimizer state."""
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance('safe_checkpoint_test')
    for step in range(3):
        hub.update_scalar('train/loss', 1.0 / (step + 1))
    hub.update_info('iter', 3)
    hub.update_info('np_scalar', np.float64(0.5))
    hub.update_info('np_array', np.arange(4, dtype=np.int64))
    return dict(
        meta=dict(epoch=1, iter=3, seed=0, dataset_meta=dict(classes=['a'])),
        state_dict=model.state_dict(),
        optimizer=optimizer.state_dict(),
        message_hub=hub.state_dict())


def test_full_training_checkpoint_loads_through_mmengine(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(full_training_checkpoint(), path)
    checkpoint = _load_checkpoint(path, map_location='cpu')
    loss_buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss_buffer, HistoryBuffer)
    assert loss_buffer.current() == pytest.approx(1 / 3)
    assert loss_buffer.mean() == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    info = checkpoint['message_hub']['runtime_info']
    assert info['np_scalar'] == 0.5
    assert info['np_array'].tolist() == [0, 1, 2, 3]
    assert checkpoint['meta']['iter'] == 3


def test_malicious_checkpoint_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': RunsACommand(str(marker))}, path)
    with pytest.raises(UnsafeCheckpointError) as error:
        _load_checkpoint(path, map_location='cpu')
    assert path in str(error.value)
    assert f'{os.system.__module__}.system' in str(error.value)
    assert not marker.exists()


def test_getattr_is_allowed_only_for_history_buffer_statistics(tmp_path):
    assert _history_buffer_statistic(HistoryBuffer,
                                     'mean') is HistoryBuffer.mean
    with pytest.raises(UnsafeCheckpointError, match='not allowed'):
        _history_buffer_statistic(HistoryBuffer, 'register_statistics')
    with pytest.raises(UnsafeCheckpointError, match='not allowed'):
        _history_buffer_statistic(np.ndarray, 'tofile')

    path = str(tmp_path / 'getattr.pth')
    torch.save({'payload': LooksUpAnotherAttribute()}, path)
    with pytest.raises(UnsafeCheckpointError, match='getattr.pth'):
        load_checkpoint_safely(path)


def test_truncated_checkpoint_gets_a_clear_error(tmp_path):
    path = str(tmp_path / 'whole.pth')
    torch.save(full_training_checkpoint(), path)
    truncated = str(tmp_path / 'truncated.pth')
    with open(path, 'rb') as source, open(truncated, 'wb') as target:
        target.write(source.read()[:200])
    with pytest.raises(RuntimeError, match='truncated'):
        load_checkpoint_safely(truncated)


def test_missing_checkpoint_names_the_path(tmp_path):
    path = osp.join(str(tmp_path), 'absent.pth')
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_checkpoint_safely(path)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A directory served over HTTP on 127.0.0.1, and torch hub's download
    directory in ``tmp_path``."""
    root = tmp_path / 'served'
    root.mkdir()
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_url_checkpoints_load_as_safely_as_local_ones(served, tmp_path):
    """mmengine's http(s) loader leaves ``weights_only`` to torch's
    ``load_state_dict_from_url`` (False): a URL could run code."""
    root, url = served
    marker = tmp_path / 'pwned'
    torch.save({
        'state_dict': {},
        'payload': RunsACommand(str(marker))
    }, root / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        _load_checkpoint(f'{url}/evil.pth', map_location='cpu')
    assert not marker.exists()
    torch.save(full_training_checkpoint(), root / 'epoch_1.pth')
    checkpoint = _load_checkpoint(f'{url}/epoch_1.pth', map_location='cpu')
    assert checkpoint['meta']['iter'] == 3
    assert osp.isfile(tmp_path / 'hub' / 'checkpoints' / 'epoch_1.pth')


def test_teacher_and_pretrained_weights_load_by_url(served):
    from mmpretrain.registry import MODELS

    from mmw2s.models.algorithms.teacher_checkpoint import load_teacher_weights
    root, url = served
    cfg = dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='mmpretrain.LeNet5', num_classes=4),
        head=dict(type='mmpretrain.ClsHead'))
    source = MODELS.build(cfg)
    torch.save({'state_dict': source.state_dict()}, root / 'lenet.pth')
    teacher = MODELS.build(cfg)
    load_teacher_weights(teacher, f'{url}/lenet.pth')
    student = MODELS.build(
        dict(
            cfg,
            init_cfg=dict(type='Pretrained', checkpoint=f'{url}/lenet.pth')))
    student.init_weights()
    for model in (teacher, student):
        for key, value in source.state_dict().items():
            assert torch.equal(model.state_dict()[key], value), key


class _RecordsStartingWeights(Hook):
    """Keeps the teacher's and the student's weights as training starts
    (after the runner initialised them)."""

    def before_train(self, runner) -> None:
        model = runner.model
        self.teacher = copy.deepcopy(model.teacher.state_dict())
        self.student = copy.deepcopy(model.architecture.state_dict())


def test_config_with_url_weights_trains(served, image_root, tmp_path):
    """The tiny weak-to-strong config with its teacher (``teacher_ckpt``)
    and its student's backbone (a ``Pretrained`` init) given by URL trains,
    starting from exactly the served weights."""
    from mmpretrain.registry import MODELS

    root, url = served
    cfg = Config.fromfile(osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py'))
    teacher = MODELS.build(cfg.weak_model).state_dict()
    torch.save({'state_dict': teacher}, root / 'teacher.pth')
    backbone = MODELS.build(cfg.strong_model).backbone.state_dict()
    torch.save({'state_dict': backbone}, root / 'backbone.pth')
    cfg.model.teacher_ckpt = f'{url}/teacher.pth'
    cfg.model.allow_random_teacher = False
    cfg.model.architecture.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=f'{url}/backbone.pth')
    for loader in ('train', 'val', 'test'):
        cfg[f'{loader}_dataloader'].dataset.data_root = image_root
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    starting = _RecordsStartingWeights()
    runner.register_hook(starting)
    runner.train()
    for key, value in teacher.items():
        assert torch.equal(starting.teacher[key], value), key
    for key, value in backbone.items():
        assert torch.equal(starting.student[f'backbone.{key}'], value), key
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_2.pth'))
