# Copyright (c) mmw2s contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer, MessageHub
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
