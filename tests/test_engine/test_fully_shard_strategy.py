# Copyright (c) mmw2s contributors. All rights reserved.
"""Weak-to-strong training at scale on 2 CPU processes (gloo): FSDP
(FlexibleRunner + FullyShardStrategy) over two simulated nodes against DDP on
one, resumed, exported and from offline weak logits; mixed precision in one
process."""
import contextlib
import glob
import json
import os
import os.path as osp
import re
import signal
import subprocess
import tempfile
import time
from typing import Dict, List, Sequence

import pytest
import torch
import torch.distributed as dist
from conftest import (GLOO_TEARDOWN_ABORT, REPO_ROOT, TEST_CONFIGS,
                      python_tool, run_tool)
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample
from torch import nn
from torch.distributed.fsdp import MixedPrecisionPolicy

import mmw2s  # noqa: F401
from mmw2s.apis import student_checkpoint, student_config
from mmw2s.datasets import WeakLabelDataset
from mmw2s.engine.strategies import FullyShardStrategy, fully_shard_strategy
from mmw2s.engine.strategies.fully_shard_strategy import check_mixed_precision
from mmw2s.testing import free_port
from mmw2s.utils import load_checkpoint_safely

DDP_CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit.py')
FSDP_CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_cnn_to_vit_fsdp.py')
MMENGINE_FSDP_CONFIG = osp.join(TEST_CONFIGS,
                                'w2s_tiny_cnn_to_vit_mmengine_fsdp.py')
OFFLINE_FSDP_CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_offline_fsdp.py')
VIT_TO_CNN_CONFIG = osp.join(TEST_CONFIGS, 'w2s_tiny_vit_to_cnn_augconf.py')
PLUGINS = osp.join(REPO_ROOT, 'tests', 'data', 'plugins')
DIST_TRAIN = osp.join(REPO_ROOT, 'tools', 'dist_train.sh')
# FSDP sums the gradient norm it clips by shard by shard, DDP tensor by
# tensor: the weights differ by up to 1.5e-8 after 8 steps (bitwise equal
# without clipping; measured 2026-11-28)
LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-6
# GPU kernels (TF32 convolutions, atomics) round differently run to run
GPU_WEIGHT_ATOL = 1e-4
SPLITS = ('train', 'val', 'test')
# the logged terms compared step by step
COMPARED = ('loss', 'student.', 'distill.', 'teacher_', 'grad_norm')
# seconds all the launches of one job may take together (one takes 20-40)
LAUNCH_TIMEOUT = 300
# seconds the other nodes get to end once one node has failed
PEER_GRACE = 20


def options(image_root: str,
            *extra: str,
            splits: Sequence[str] = SPLITS) -> List[str]:
    """The data roots of ``splits``; 2 images a process, no dropout: the
    runs are comparable step by step; gradients clipped (at about half
    their norm here), which FSDP must do on the norm of all shards."""
    return ['--cfg-options'] + [
        f'{split}_dataloader.dataset.data_root={image_root}'
        for split in splits
    ] + [
        'model.architecture.backbone.drop_rate=0.0',
        'model.architecture.backbone.drop_path_rate=0.0',
        'train_dataloader.batch_size=2', 'optim_wrapper.clip_grad.max_norm=1.0'
    ] + list(extra)


def kill_sessions(processes: List[subprocess.Popen]) -> None:
    """Kill every process of each one's session (torchrun's workers too)."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_all(processes: List[subprocess.Popen], deadline: float) -> bool:
    """Wait until every process has ended. Once one has failed, the others
    get ``PEER_GRACE`` seconds (torchrun's agent would wait for a failed
    node's agent up to its exit barrier, 300 s), then are killed. Returns
    False, having killed them all, if ``deadline`` passed first."""
    failed_at = None
    while any(process.poll() is None for process in processes):
        now = time.monotonic()
        if failed_at is None and any(
                process.returncode not in (None, 0) for process in processes):
            failed_at = now
        if now > deadline or (failed_at is not None
                              and now > failed_at + PEER_GRACE):
            kill_sessions(processes)
            return now <= deadline
        time.sleep(0.2)
    return True


def launch_together(commands: List[List[str]], envs: List[dict]) -> str:
    """Run the commands at once (the nodes of one job) from the repository
    root, each in a session of its own, once; fail if any exits non-zero or
    prints gloo's abort, or, killing every process of every session
    (torchrun's workers too), if they have not all ended
    ``LAUNCH_TIMEOUT`` seconds after the launch. Returns their output."""
    deadline = time.monotonic() + LAUNCH_TIMEOUT
    # files, not pipes: a node blocked on a full pipe would hang the job
    logs = [tempfile.TemporaryFile('w+') for _ in commands]
    processes = [
        subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(os.environ, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True)
        for command, env, log in zip(commands, envs, logs)
    ]
    timed_out = not wait_for_all(processes, deadline)
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    if timed_out:
        pytest.fail(f'not ended within {LAUNCH_TIMEOUT} s, killed:\n' +
                    '\n'.join(output[-4000:] for output in outputs))
    for command, process, output in zip(commands, processes, outputs):
        if process.returncode != 0 or GLOO_TEARDOWN_ABORT in output:
            pytest.fail(f'{" ".join(command)} exited {process.returncode}\n'
                        f'{output[-8000:]}')
    return ''.join(outputs)


def dist_train(config: str, work_dir: str, image_root: str, *extra: str,
               **kwargs) -> str:
    """tools/dist_train.sh with 2 processes on one node; returns the log.
    ``extra`` and ``kwargs`` go to :func:`options`."""
    return launch_together(
        [['bash', DIST_TRAIN, config, '2', '--work-dir', work_dir] +
         options(image_root, *extra, **kwargs)], [dict(PORT=str(free_port()))])


def scalars(work_dir: str, key: str) -> List[Dict[str, float]]:
    """The logged records of a run that have ``key`` ('loss': the training
    steps; 'pgr': the validations), from its last launch (a resumed run
    logs under a later timestamp)."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert files, f'no scalars.json under {work_dir}'
    with open(max(files)) as file:
        records = [json.loads(line) for line in file]
    return [record for record in records if key in record]


def held_by_rank0(state_dict: dict, prefix: str) -> int:
    """The elements of rank 0's shards of 2 when each tensor under
    ``prefix`` is split on its first dimension, as fully_shard does."""
    return sum(-(-value.shape[0] // 2) * value[0].numel()
               for name, value in state_dict.items()
               if name.startswith(prefix))


def checkpoint(work_dir: str, epoch: int) -> dict:
    return load_checkpoint_safely(osp.join(work_dir, f'epoch_{epoch}.pth'))


def assert_same_weights(result: dict, expected: dict, atol: float) -> None:
    assert result.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(
            result[name],
            value,
            atol=atol,
            rtol=0,
            msg=lambda message, name=name: f'{name}: {message}')


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory, image_root) -> str:
    work_dir = str(tmp_path_factory.mktemp('ddp'))
    dist_train(DDP_CONFIG, work_dir, image_root)
    return work_dir


@pytest.fixture(scope='module')
def fsdp_run(tmp_path_factory, image_root) -> tuple:
    """FSDP over two nodes, one process each (node 0 and node 1 of
    tools/dist_train.sh on this machine)."""
    work_dir = str(tmp_path_factory.mktemp('fsdp'))
    port = str(free_port())
    # torchrun sets OMP_NUM_THREADS=1 only for several processes a node;
    # two 1-process nodes on 2 shared cores would oversubscribe them. Each
    # node sees a GPU of its own where there are GPUs.
    log = launch_together(
        [['bash', DIST_TRAIN, FSDP_CONFIG, '1', '--work-dir', work_dir] +
         options(image_root)] * 2, [
             dict(
                 OMP_NUM_THREADS='1',
                 CUDA_VISIBLE_DEVICES=str(node_rank),
                 NNODES='2',
                 NODE_RANK=str(node_rank),
                 MASTER_ADDR='127.0.0.1',
                 PORT=port) for node_rank in (0, 1)
         ])
    return work_dir, log


def test_a_mixed_precision_dtype_must_be_a_torch_dtype(tmp_path):
    with pytest.raises(
            ValueError,
            match=r"mp_policy.param_dtype='bf16' is not a torch dtype name"):
        FullyShardStrategy(
            mp_policy=dict(param_dtype='bf16'), work_dir=str(tmp_path))


def test_options_of_the_first_fsdp_are_refused(tmp_path):
    with pytest.raises(
            ValueError,
            match=r'does not take model_wrapper= \(an option of mmengine'):
        FullyShardStrategy(
            model_wrapper=dict(use_orig_params=True), work_dir=str(tmp_path))


def test_bfloat16_is_refused_for_a_student_with_batchnorm_or_no_backbone():
    student = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    with pytest.raises(
            ValueError,
            match=r'param_dtype=torch.bfloat16 with BatchNorm in the student '
            r'\(1, 1 in all\)'):
        check_mixed_precision(student,
                              MixedPrecisionPolicy(param_dtype=torch.bfloat16))
    check_mixed_precision(student, MixedPrecisionPolicy())
    with pytest.raises(
            ValueError,
            match=r'param_dtype=torch.bfloat16 needs a student with a '
            r'backbone \(as an mmpretrain ImageClassifier\), got Linear'):
        check_mixed_precision(
            nn.Linear(2, 2), MixedPrecisionPolicy(param_dtype=torch.bfloat16))


@pytest.fixture
def one_process_group(monkeypatch):
    """A process group of this process alone (NCCL where there is a GPU);
    the strategy's environment settings (OMP_NUM_THREADS, ...) are undone
    after the test."""
    for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        monkeypatch.setenv(name, os.environ.get(name, '1'))
    dist.init_process_group(
        'nccl' if torch.cuda.is_available() else 'gloo',
        init_method=f'tcp://127.0.0.1:{free_port()}',
        rank=0,
        world_size=1)
    yield
    dist.destroy_process_group()


def test_under_bfloat16_the_student_logits_and_losses_are_fp32(
        one_process_group, tmp_path):
    """The blocks compute in bf16; the head, its cross-entropy and the
    distill loss get fp32, as autocast gives softmax and cross-entropy."""
    strategy = FullyShardStrategy(
        mp_policy=dict(param_dtype='bfloat16', reduce_dtype='float32'),
        work_dir=str(tmp_path),
        env_kwargs=dict(launcher='pytorch'))
    model = strategy.prepare(Config.fromfile(FSDP_CONFIG).model)
    dtypes = {}

    def record(name: str):
        """A hook noting the dtypes of the floating tensors a module is
        given (pre-hook) or returns."""

        def hook(module, args, kwargs_or_output):
            tensors = list(args) + (
                list(kwargs_or_output.values()) if isinstance(
                    kwargs_or_output, dict) else [kwargs_or_output])
            dtypes[name] = {
                tensor.dtype
                for tensor in tensors if isinstance(tensor, torch.Tensor)
                and tensor.is_floating_point()
            }

        return hook

    student = model.student
    student.backbone.layers[0].register_forward_hook(record('block'))
    student.head.register_forward_hook(record('logits'))
    student.head.loss_module.register_forward_pre_hook(
        record('cross_entropy'), with_kwargs=True)
    for name, loss in model.distiller.distill_losses.items():
        loss.register_forward_pre_hook(record(name), with_kwargs=True)
    inputs = torch.rand(2, 3, 16, 16, device=get_device())
    data_samples = [
        DataSample().set_gt_label(label).to(get_device()) for label in (0, 3)
    ]
    losses = model(inputs, data_samples, mode='loss')
    sum(value for key, value in losses.items() if 'loss' in key).backward()
    # block: its input and output; the others: the logits (and the
    # teacher's for the distill loss)
    assert dtypes == dict(
        block={torch.bfloat16},
        logits={torch.float32},
        cross_entropy={torch.float32},
        loss_w2s={torch.float32})
    assert losses['student.loss'].dtype == torch.float32
    assert losses['distill.loss_w2s'].dtype == torch.float32
    # every sharded parameter of the student got its fp32 gradient, through
    # the backbone's cast too
    assert {param.grad.dtype
            for param in student.parameters()} == {torch.float32}


def _prepared(tmp_path):
    strategy = FullyShardStrategy(
        work_dir=str(tmp_path), env_kwargs=dict(launcher='pytorch'))
    strategy.prepare(Config.fromfile(FSDP_CONFIG).model)
    return strategy


def test_fsdp_loading_names_missing_and_unexpected_keys(
        one_process_group, tmp_path, monkeypatch):
    """A checkpoint with a wrong prefix, or without a bias, is not loaded
    silently: its keys are named (an error with strict=True), and the keys
    that match are loaded."""
    strategy = _prepared(tmp_path)
    full = strategy.model_state_dict()
    bias = next(key for key in full if key.endswith('bias'))
    warnings = []
    monkeypatch.setattr(fully_shard_strategy, 'print_log',
                        lambda message, **kwargs: warnings.append(message))
    with pytest.raises(
            RuntimeError,
            match=r'(?s)unexpected key in source state_dict: wrong\..*'
            r'missing keys in source state_dict: '):
        strategy.load_model_state_dict(
            {
                f'wrong.{key}': value
                for key, value in full.items()
            },
            strict=True)
    changed = {key: value + 1 for key, value in full.items()}
    partial = {key: value for key, value in changed.items() if key != bias}
    strategy.load_model_state_dict(partial)
    assert warnings == [
        'The model and loaded state dict do not match exactly\n\n'
        f'missing keys in source state_dict: {bias}\n'
    ]
    loaded = strategy.model_state_dict()
    assert torch.equal(loaded[bias], full[bias])
    for key in partial:
        assert torch.equal(loaded[key], changed[key]), key
    strategy.load_model_state_dict(full, strict=True)
    assert len(warnings) == 1


def test_a_built_optimizer_and_amp_are_refused(tmp_path):
    strategy = FullyShardStrategy(work_dir=str(tmp_path))
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for built in (optimizer, OptimWrapper(optimizer)):
        with pytest.raises(
                TypeError,
                match=r'optim_wrapper must be a config with an optimizer'):
            strategy.build_optim_wrapper(built, model)
    with pytest.raises(
            ValueError,
            match=r'optim_wrapper.type=AmpOptimWrapper \(--amp\) is not '
            r"supported; set strategy.mp_policy=dict\(param_dtype='bfloat16'"):
        strategy.build_optim_wrapper(
            dict(type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
            model)
    assert type(
        strategy.build_optim_wrapper(
            dict(optimizer=dict(type='SGD', lr=0.1)), model)) is OptimWrapper


def test_ddp_validation_gives_the_metrics_of_one_process(
        ddp_run, tmp_path, image_root):
    """The student's and the teacher's accuracy and PGR that the 2-process
    run's last validation logged (results gathered across ranks) are those
    of its checkpoint validated in one process."""
    logged = scalars(ddp_run, 'pgr')[-1]
    cfg = Config.fromfile(DDP_CONFIG)
    for split in SPLITS:
        cfg[f'{split}_dataloader'].dataset.data_root = image_root
    cfg.load_from = osp.join(ddp_run, 'epoch_2.pth')
    cfg.work_dir = str(tmp_path)
    metrics = Runner.from_cfg(cfg).val()
    for key in ('accuracy/top1', 'teacher.accuracy/top1', 'pgr'):
        assert metrics[key] == pytest.approx(logged[key], abs=1e-4), key


def test_a_batchnorm_student_under_ddp_validates_as_one_process(
        tmp_path, image_root, monkeypatch):
    """A CNN student with BatchNorm on 2 processes, with mmengine's
    SyncBuffersHook: both ranks end with the same running statistics (the
    mean of theirs), and the run's last validation is its checkpoint's in
    one process."""
    config = tmp_path / 'bn_student.py'
    config.write_text(
        f'_base_ = [{VIT_TO_CNN_CONFIG!r}]\n'
        "custom_imports = dict(imports=['mmw2s', 'kill_switch'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='mmrazor.WarmupFactorHook', "
        "schedule='epoch', ratio=0.5), dict(type='SyncBuffersHook'), "
        "dict(type='mmrazor.SaveBuffersHook')]\n")
    work_dir = str(tmp_path / 'work')
    launch_together([[
        'bash', DIST_TRAIN,
        str(config), '2', '--work-dir', work_dir, '--cfg-options'
    ] + [
        f'{split}_dataloader.dataset.data_root={image_root}'
        for split in SPLITS
    ]], [dict(PORT=str(free_port()), PYTHONPATH=PLUGINS)])
    ranks = [
        torch.load(
            osp.join(work_dir, f'buffers_rank{rank}.pth'), weights_only=True)
        for rank in (0, 1)
    ]
    statistics = [name for name in ranks[0] if 'running_' in name]
    assert statistics and all(
        name.startswith('architecture.') for name in statistics)
    for name in ranks[0]:
        assert torch.equal(ranks[0][name], ranks[1][name]), name
    logged = scalars(work_dir, 'pgr')[-1]
    monkeypatch.syspath_prepend(PLUGINS)
    cfg = Config.fromfile(str(config))
    for split in SPLITS:
        cfg[f'{split}_dataloader'].dataset.data_root = image_root
    cfg.custom_hooks = []
    cfg.load_from = osp.join(work_dir, 'epoch_4.pth')
    cfg.work_dir = str(tmp_path / 'one')
    metrics = Runner.from_cfg(cfg).val()
    for key in ('accuracy/top1', 'teacher.accuracy/top1', 'pgr'):
        assert metrics[key] == pytest.approx(logged[key], abs=1e-4), key


def test_fsdp_on_two_nodes_trains_as_ddp_on_one_does(ddp_run, fsdp_run):
    work_dir, log = fsdp_run
    assert 'GPU number: 2' in log  # mmengine's count of processes
    # 16 images, 2 per process: 4 steps an epoch, 2 epochs
    assert 'Epoch(train) [2][4/4]' in log
    # rank 0 holds its shard of the student (the ViT has no buffers) and
    # the whole teacher
    weights = checkpoint(ddp_run, 2)['state_dict']
    student = sum(value.numel() for name, value in weights.items()
                  if name.startswith('architecture.'))
    teacher = sum(value.numel() for name, value in weights.items()
                  if name.startswith('teacher.') and 'running_' not in name
                  and 'num_batches_tracked' not in name)
    assert ('sharded 2 TransformerEncoderLayer, 1 VisionTransformer, 1 '
            'ImageClassifier and the root; this rank holds '
            f'{held_by_rank0(weights, "architecture.")} of {student} sharded '
            f'parameters over 2 ranks, and all {teacher} parameters of the '
            'frozen teacher') in log
    # every logged term (losses, warm-up-scaled distill terms, agreement,
    # gradient norm), step by step, and the validation metrics with PGR
    expected, result = scalars(ddp_run, 'loss'), scalars(work_dir, 'loss')
    assert len(result) == len(expected) == 8
    for step, (got, want) in enumerate(zip(result, expected)):
        for key in want:
            if key.startswith(COMPARED):
                assert got[key] == pytest.approx(
                    want[key], rel=LOSS_RTOL, abs=1e-7), (step, key)
    validations = scalars(work_dir, 'pgr')
    assert len(validations) == 2
    for got, want in zip(validations, scalars(ddp_run, 'pgr')):
        for key in ('accuracy/top1', 'teacher.accuracy/top1', 'pgr'):
            assert got[key] == pytest.approx(want[key], rel=LOSS_RTOL), key
    assert_same_weights(
        checkpoint(work_dir, 2)['state_dict'],
        checkpoint(ddp_run, 2)['state_dict'], WEIGHT_ATOL)
    # the teacher is not trained, and the optimizer holds no state for it
    fsdp = checkpoint(work_dir, 2)
    for name, value in checkpoint(work_dir, 1)['state_dict'].items():
        if name.startswith('teacher.'):
            assert torch.equal(fsdp['state_dict'][name], value), name
    assert fsdp['optimizer']['state']
    assert all(
        name.startswith('architecture.')
        for name in fsdp['optimizer']['state'])


@pytest.mark.skipif(
    torch.cuda.device_count() < 2,
    reason="mmengine's FSDPStrategy wraps torch's first FSDP, which needs "
    'GPUs (on CPU: RuntimeError "Found no NVIDIA driver" from its '
    'device_id=LOCAL_RANK; without device_id torch refuses: "FSDP needs a '
    'non-CPU accelerator device")')
def test_mmengine_fsdp_strategy_trains_as_ddp_does(ddp_run, tmp_path,
                                                   image_root):
    """On a machine with 2 GPUs (NCCL), as both DDP and FSDP run there."""
    work_dir = str(tmp_path / 'mmengine_fsdp')
    dist_train(MMENGINE_FSDP_CONFIG, work_dir, image_root)
    assert_same_weights(
        checkpoint(work_dir, 2)['state_dict'],
        checkpoint(ddp_run, 2)['state_dict'], GPU_WEIGHT_ATOL)


def test_fsdp_resumes_to_the_same_weights(fsdp_run, tmp_path, image_root):
    """On one node, from the first epoch of the two-node run: gloo reduces
    the two processes' gradients alike within a node and across nodes."""
    work_dir, _ = fsdp_run
    resumed_dir = str(tmp_path / 'resumed')
    log = dist_train(FSDP_CONFIG, resumed_dir, image_root, '--resume',
                     osp.join(work_dir, 'epoch_1.pth'))
    assert 'resumed epoch: 1, iter: 4' in log
    resumed = checkpoint(resumed_dir, 2)
    uninterrupted = checkpoint(work_dir, 2)
    assert_same_weights(resumed['state_dict'], uninterrupted['state_dict'],
                        0.0)
    for name, state in uninterrupted['optimizer']['state'].items():
        torch.testing.assert_close(
            resumed['optimizer']['state'][name]['momentum_buffer'],
            state['momentum_buffer'],
            atol=0,
            rtol=0)


def test_w2s_to_student_reads_an_fsdp_checkpoint(fsdp_run, tmp_path):
    """What tools/model_converters/w2s_to_student.py writes, from an FSDP
    checkpoint, is a plain mmpretrain student."""
    work_dir, _ = fsdp_run
    trained = checkpoint(work_dir, 2)
    weights = student_checkpoint(trained)['state_dict']
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        student = MODELS.build(
            student_config(Config.fromfile(FSDP_CONFIG)).model)
    student.load_state_dict(weights, strict=True)
    for name, value in weights.items():
        assert torch.equal(value,
                           trained['state_dict'][f'architecture.{name}'])


def test_one_process_evaluates_an_fsdp_checkpoint_with_its_config(
        fsdp_run, tmp_path, image_root):
    """tools/test.py without a launcher: the strategy leaves the model
    whole and loads the full state dict; the score is the run's last."""
    work_dir, _ = fsdp_run
    result = run_tool(
        python_tool('test.py') + [
            FSDP_CONFIG,
            osp.join(work_dir, 'epoch_2.pth'), '--work-dir',
            str(tmp_path)
        ] + options(image_root),
        cwd=REPO_ROOT)
    log = result.stdout + result.stderr
    assert 'not distributed, so the model is not sharded' in log
    accuracy = re.search(r'Epoch\(test\).*accuracy/top1: ([\d.]+)', log)
    assert accuracy, log[-2000:]
    last = scalars(work_dir, 'pgr')[-1]['accuracy/top1']
    assert float(accuracy.group(1)) == pytest.approx(last, abs=1e-4)


def test_fsdp_trains_from_offline_weak_logits_in_bfloat16(
        tmp_path, image_root):
    cfg = Config.fromfile(OFFLINE_FSDP_CONFIG)
    dataset_cfg = cfg.train_dataloader.dataset.dataset
    dataset_cfg.data_root = image_root
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(dataset_cfg)
    keys = WeakLabelDataset.sample_keys(dataset)
    logits_file = str(tmp_path / 'weak_logits.pth')
    torch.manual_seed(0)
    torch.save(
        dict(
            weak_logits=torch.randn(len(keys), 4),
            sample_keys=keys,
            num_samples=len(keys)), logits_file)
    log = dist_train(
        OFFLINE_FSDP_CONFIG,
        str(tmp_path / 'offline'),
        image_root,
        f'train_dataloader.dataset.weak_logits_file={logits_file}',
        f'train_dataloader.dataset.dataset.data_root={image_root}',
        'strategy.mp_policy.param_dtype=bfloat16',
        splits=('val', 'test'))
    assert 'all 0 parameters of the frozen teacher' in log
    assert 'param_dtype=torch.bfloat16' in log
    assert 'distill.loss_w2s' in log and 'student.loss' not in log
    assert 'Epoch(train) [2][4/4]' in log and 'pgr: ' in log
