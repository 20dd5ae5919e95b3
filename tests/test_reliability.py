# Copyright (c) mmw2s contributors. All rights reserved.
"""Crash and resume, atomic checkpoints, non-finite losses, bad configs."""
import glob
import os
import os.path as osp
import subprocess

import pytest
import torch
from conftest import REPO_ROOT, TEST_CONFIGS, python_tool, run_tool
from mmengine.config import Config
from mmengine.fileio.backends.local_backend import LocalBackend

import mmw2s  # noqa: F401
from mmw2s.compat import current_umask
from mmw2s.engine import SkipNonFiniteOptimWrapper
from mmw2s.testing import free_port
from mmw2s.utils import load_checkpoint_safely

KD_CONFIG = osp.join(TEST_CONFIGS, 'kd_tiny_resnet.py')
W2S_CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py')
PLUGINS = osp.join(REPO_ROOT, 'tests', 'data', 'plugins')


def options(image_root: str) -> list:
    return [
        f'{split}_dataloader.dataset.data_root={image_root}'
        for split in ('train', 'val', 'test')
    ]


def train_command(config: str, work_dir: str, image_root: str, *extra_options:
                  str) -> list:
    return python_tool('train.py') + [
        config, '--work-dir', work_dir, '--cfg-options'
    ] + options(image_root) + [
        'randomness.deterministic=True', 'train_cfg.max_epochs=3'
    ] + list(extra_options)


def with_hooks(tmp_path, base: str, hooks: str) -> str:
    """A config that inherits ``base`` and adds the test plugins' hooks."""
    path = tmp_path / f'with_hooks_{osp.basename(base)}'
    path.write_text(f'_base_ = [{base!r}]\n'
                    "custom_imports = dict(imports=['mmw2s', 'kill_switch'], "
                    'allow_failed_imports=False)\n'
                    f'custom_hooks = [{hooks}]\n')
    return str(path)


def run_with_plugins(command: list) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=PLUGINS + os.pathsep + REPO_ROOT)
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_weights(
        tmp_path, image_root):
    killing = with_hooks(tmp_path, KD_CONFIG,
                         "dict(type='mmrazor.KillAtIterHook', kill_iter=10)")
    reference = str(tmp_path / 'reference')
    run_tool(train_command(KD_CONFIG, reference, image_root), cwd=REPO_ROOT)

    crashed = str(tmp_path / 'crashed')
    killed = run_with_plugins(train_command(killing, crashed, image_root))
    assert killed.returncode == -9, killed.stderr[-3000:]
    # 4 iterations an epoch: killed in epoch 3, after epoch 2 was saved
    assert osp.isfile(osp.join(crashed, 'epoch_2.pth'))
    assert not osp.exists(osp.join(crashed, 'epoch_3.pth'))

    result = run_tool(
        train_command(KD_CONFIG, crashed, image_root) + ['--resume'],
        cwd=REPO_ROOT)
    assert 'resumed epoch: 2' in result.stdout + result.stderr
    resumed = load_checkpoint_safely(osp.join(crashed, 'epoch_3.pth'))
    expected = load_checkpoint_safely(osp.join(reference, 'epoch_3.pth'))
    for name, value in expected['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][name], value)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 12


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    target = str(tmp_path / 'epoch_1.pth')
    LocalBackend().put(b'complete', target)

    def fail_midway(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', fail_midway)
    with pytest.raises(OSError, match='disk full'):
        LocalBackend().put(b'half-written new checkpoint', target)
    assert open(target, 'rb').read() == b'complete'
    assert os.listdir(str(tmp_path)) == ['epoch_1.pth']


def test_checkpoints_get_the_umask_mode_and_the_umask_is_never_changed(
        tmp_path, monkeypatch):
    """The mode follows the umask, read from /proc without setting it
    (os.umask would, for an instant, apply to every thread's files)."""
    previous = os.umask(0o027)
    try:
        calls = []
        monkeypatch.setattr(os, 'umask', lambda mask: calls.append(mask))
        assert current_umask() == 0o027
        LocalBackend().put(b'weights', str(tmp_path / 'epoch_1.pth'))
        assert calls == []
    finally:
        monkeypatch.undo()
        os.umask(previous)
    assert os.stat(tmp_path / 'epoch_1.pth').st_mode & 0o777 == 0o640


def test_mmcls_references_get_a_clear_error(tmp_path):
    config = tmp_path / 'old.py'
    config.write_text("_base_ = 'mmcls::resnet/resnet18_8xb32_in1k.py'\n")
    with pytest.raises(
            ValueError,
            match='retired name of mmpretrain: write mmpretrain::'
            'resnet/resnet18_8xb32_in1k.py'):
        Config.fromfile(str(config))
    from mmengine.hub import get_config
    with pytest.raises(ValueError, match='retired name of mmpretrain'):
        get_config('mmcls::resnet/resnet18_8xb32_in1k.py')


@pytest.mark.parametrize('part, culprit, innocent',
                         [('student', 'student', 'weak teacher'),
                          ('teacher', 'weak teacher', 'student')])
def test_nonfinite_logits_stop_the_run_naming_their_model(
        tmp_path, image_root, part, culprit, innocent):
    work_dir = str(tmp_path / 'nan')
    config = with_hooks(
        tmp_path, W2S_CONFIG, "dict(type='mmrazor.NonFiniteCheckHook'), "
        f"dict(type='mmrazor.PoisonWeightsHook', at_iter=6, part='{part}')")
    result = run_with_plugins(train_command(config, work_dir, image_root))
    assert result.returncode != 0
    assert 'Non-finite loss at iteration 6 (epoch 2): loss nan: the ' \
        f'{culprit} produced non-finite logits' in result.stderr
    assert f'{innocent} produced' not in result.stderr
    checkpoints = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')))
    assert [osp.basename(path) for path in checkpoints] == ['epoch_1.pth']
    state = load_checkpoint_safely(checkpoints[0])['state_dict']
    assert all(
        torch.isfinite(value).all() for value in state.values()
        if value.is_floating_point())


def test_skipped_batches_are_counted_on_across_a_resume(tmp_path, image_root):
    """SkipNonFiniteOptimWrapper's count is saved in each checkpoint and
    restored on resume: a batch skipped before the resume and one after
    make 2 (4 iterations an epoch)."""
    config = with_hooks(
        tmp_path, W2S_CONFIG,
        "dict(type='mmrazor.PoisonWeightsHook', at_iter=2, once=True), "
        "dict(type='mmrazor.PoisonWeightsHook', at_iter=10, once=True)")
    skipping = ['optim_wrapper.type=SkipNonFiniteOptimWrapper']
    first = str(tmp_path / 'first')
    result = run_with_plugins(
        train_command(config, first, image_root, *skipping,
                      'train_cfg.max_epochs=1'))
    assert result.returncode == 0, result.stderr[-4000:]
    resumed = str(tmp_path / 'resumed')
    result = run_with_plugins(
        train_command(config, resumed, image_root, *skipping) +
        ['--resume', osp.join(first, 'epoch_1.pth')])
    assert result.returncode == 0, result.stderr[-4000:]

    def skipped(work_dir: str, epoch: int) -> int:
        checkpoint = load_checkpoint_safely(
            osp.join(work_dir, f'epoch_{epoch}.pth'))
        return checkpoint['message_hub']['runtime_info']['skipped_batches']

    assert skipped(first, 1) == 1
    assert [skipped(resumed, epoch) for epoch in (2, 3)] == [1, 2]


def test_skip_nonfinite_optim_wrapper_skips_and_counts():
    from mmengine.logging import MessageHub
    MessageHub.get_instance('skip_test')
    layer = torch.nn.Linear(2, 1)
    wrapper = SkipNonFiniteOptimWrapper(
        optimizer=torch.optim.SGD(layer.parameters(), lr=0.1), max_skipped=1)
    before = layer.weight.detach().clone()
    wrapper.update_params(layer(torch.ones(1, 2)).sum() * torch.nan)
    assert torch.equal(layer.weight, before)
    assert MessageHub.get_current_instance().get_info('skipped_batches') == 1
    wrapper.update_params(layer(torch.ones(1, 2)).sum())
    assert not torch.equal(layer.weight, before)
    with pytest.raises(FloatingPointError, match='max_skipped=1'):
        wrapper.update_params(layer(torch.ones(1, 2)).sum() * torch.inf)


def test_empty_dataset_is_refused(tmp_path):
    from idx_helpers import write_fashion_like

    from mmw2s.datasets import FashionMNISTIDX
    root = write_fashion_like(str(tmp_path), num_train=10, num_test=10)
    with pytest.raises(ValueError, match='max_samples must be >= 1'):
        FashionMNISTIDX(data_root=root, max_samples=0)


def test_teacher_checkpoint_that_is_not_a_checkpoint(tmp_path):
    from mmrazor.registry import MODELS
    from model_helpers import cnn, vit, w2s_model
    garbage = tmp_path / 'weak.pth'
    garbage.write_bytes(b'not a checkpoint at all')
    with pytest.raises(RuntimeError, match='weak.pth .* truncated or not'):
        MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=str(garbage)))


def test_unreadable_teacher_checkpoint(tmp_path, monkeypatch):
    """A checkpoint the process may not read stops the build (it never
    falls back to a random teacher). The permission is denied by patching
    open(), since root, as in CI, reads a file of mode 0."""
    import builtins

    from mmrazor.registry import MODELS
    from model_helpers import cnn, vit, w2s_model
    unreadable = str(tmp_path / 'locked.pth')
    torch.save({'state_dict': {}}, unreadable)
    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if str(file) == unreadable:
            raise PermissionError(13, 'Permission denied', unreadable)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', deny)
    with pytest.raises(PermissionError, match='Permission denied'):
        MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=unreadable))


def test_two_process_training_matches_one_process_with_the_same_batch(
        tmp_path, image_root):
    """DDP with 2 CPU processes x 2 images ends with the weights of one
    process x 4 images (the ViT student has no BatchNorm; dropout off), and
    only rank 0 writes checkpoints and the log."""
    no_dropout = [
        'model.architecture.backbone.drop_rate=0.0',
        'model.architecture.backbone.drop_path_rate=0.0',
        'train_cfg.max_epochs=2'
    ]
    single = str(tmp_path / 'single')
    run_tool(
        train_command(W2S_CONFIG, single, image_root, *no_dropout,
                      'train_dataloader.batch_size=4'),
        cwd=REPO_ROOT)
    distributed = str(tmp_path / 'distributed')
    command = [
        'bash',
        osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), W2S_CONFIG, '2'
    ] + train_command(W2S_CONFIG, distributed, image_root, *no_dropout,
                      'train_dataloader.batch_size=2')[3:]
    run_tool(command, cwd=REPO_ROOT, extra_env=dict(PORT=str(free_port())))

    expected = load_checkpoint_safely(osp.join(single, 'epoch_2.pth'))
    result = load_checkpoint_safely(osp.join(distributed, 'epoch_2.pth'))
    assert result['meta']['iter'] == expected['meta']['iter'] == 8
    for name, value in expected['state_dict'].items():
        torch.testing.assert_close(
            result['state_dict'][name], value, atol=1e-5, rtol=1e-4)
    logs = glob.glob(osp.join(distributed, '*', '*.log'))
    assert len(logs) == 1
