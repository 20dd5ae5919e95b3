# Copyright (c) mmw2s contributors. All rights reserved.
"""What one job of a study does, in the process the dispatcher gives it:
pre-train the strong backbone, or train a run (unless its training is
saved) and test its checkpoint on each evaluation asked for.

Everything a job writes lies in its run's directory, atomically; paths it
records are relative to that directory, so a study's work dir can move.
A student's training depends on its teacher's weights, which its key
(made before the teacher trains) cannot hold: the job records their
SHA-256, and a student trained from other weights is trained again.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch import nn

from mmw2s.utils import load_checkpoint_safely

from .dispatch import SUBMITIT_FOLDER
from .plan import file_sha256
from .report import load_scalars

TRAIN_FILE = 'train.json'
# what a run's training started from: its key and its teacher's SHA-256
STARTED_FILE = 'started.json'
PROGRESS_FILE = 'progress'
# how often a job tells its progress (seconds)
PROGRESS_PERIOD = 1.0


def write_json(path: str, content: dict) -> None:
    """Write atomically: a reader sees the whole file or none."""
    temporary = f'{path}.tmp'
    with open(temporary, 'w') as file:
        json.dump(content, file, indent=2)
    os.replace(temporary, path)


def read_json(path: str) -> Optional[dict]:
    """The JSON in ``path``, or None if there is no such file."""
    if not osp.isfile(path):
        return None
    with open(path) as file:
        return json.load(file)


def test_file(directory: str, key: str) -> str:
    """Where a run's test with ``key`` keeps its result."""
    return osp.join(directory, 'tests', f'{key[:16]}.json')


class ProgressHook(Hook):
    """Writes the number of iterations done (training and testing) to a
    file, at most once per ``PROGRESS_PERIOD`` seconds, for the study's
    progress display.

    Args:
        path (str): The file.
    """

    priority = 'LOWEST'

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self.written = 0.0

    def _advance(self) -> None:
        self.count += 1
        if time.time() - self.written >= PROGRESS_PERIOD:
            with open(f'{self.path}.tmp', 'w') as file:
                file.write(str(self.count))
            os.replace(f'{self.path}.tmp', self.path)
            self.written = time.time()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self._advance()

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        self._advance()


def check_loadable(module: nn.Module,
                   checkpoint: str,
                   prefix: Optional[str] = None,
                   ignore: Sequence[str] = ()) -> None:
    """Refuse weights that would not load whole into ``module``.

    mmengine's ``Pretrained`` initializer loads non-strictly and only logs
    what it skipped; a study run must not train from a random start while
    its report says "pre-trained".

    Args:
        module (nn.Module): What the weights are for.
        checkpoint (str): The checkpoint file.
        prefix (str, optional): Keep the checkpoint's keys under this
            prefix, without it. Defaults to None (all keys).
        ignore (Sequence[str]): Key prefixes (of the module and of the
            checkpoint) that may be missing, unexpected or of another
            shape, e.g. ``'head.'`` or the norms that MAE's fine-tuning
            replaces. Defaults to ().

    Raises:
        ValueError: A key is missing, unexpected or of another shape.
    """
    state = load_checkpoint_safely(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    if prefix:
        state = {
            key[len(prefix):]: value
            for key, value in state.items() if key.startswith(prefix)
        }
    own = module.state_dict()

    def checked(key: str) -> bool:
        return not any(key.startswith(skip) for skip in ignore)

    problems = dict(
        missing=[key for key in own if checked(key) and key not in state],
        unexpected=[key for key in state if checked(key) and key not in own],
        reshaped=[
            key for key in own if checked(key) and key in state
            and tuple(state[key].shape) != tuple(own[key].shape)
        ])
    found = {kind: keys for kind, keys in problems.items() if keys}
    if found:
        described = '; '.join(f'{len(keys)} {kind} (e.g. {keys[:4]})'
                              for kind, keys in found.items())
        raise ValueError(
            f'{checkpoint} (prefix {prefix!r}) does not load into the '
            f'{type(module).__name__}: {described}; expected every key of '
            f'the model outside ignore={tuple(ignore)} to be in the '
            'checkpoint with its shape, and no other.')


def _student(model: nn.Module) -> nn.Module:
    """The classifier a run trains (the student of a distillation)."""
    return getattr(model, 'architecture', model)


def check_init(model: nn.Module, init: Optional[dict]) -> None:
    """Check the run's starting weights (``init`` as built by
    :func:`mmw2s.pipeline.graph`: ``target``, ``checkpoint``, ``prefix``,
    ``ignore``) before it trains."""
    if not init:
        return
    module = _student(model)
    if init['target'] == 'backbone':
        module = module.backbone
    check_loadable(module, init['checkpoint'], init.get('prefix'),
                   init.get('ignore', ()))


def weights_sha256(checkpoint: str) -> str:
    """SHA-256 of a checkpoint's weights (its ``state_dict``: names,
    dtypes, shapes and values), not of its file, which also holds when and
    under which run name it was saved."""
    state = load_checkpoint_safely(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().contiguous()
        digest.update(f'{name}:{tensor.dtype}:{tuple(tensor.shape)};'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _log_file(runner: Runner) -> str:
    [path] = [
        handler.baseFilename for handler in runner.logger.handlers
        if hasattr(handler, 'baseFilename')
    ]
    return path


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine saved last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as file:
        return file.read().strip()


def _train(spec: dict, teacher_sha256: Optional[str]) -> dict:
    directory = spec['directory']
    start = time.time()
    cfg = Config(spec['train_cfg'])
    cfg.experiment_name = f'{cfg.experiment_name}_{time.time_ns()}'
    runner = Runner.from_cfg(cfg)
    check_init(runner.model, spec.get('init'))
    runner.register_hook(ProgressHook(osp.join(directory, PROGRESS_FILE)))
    runner.train()
    train_set = runner.train_dataloader.dataset
    record = dict(
        key=spec['key'],
        checkpoint=osp.relpath(last_checkpoint(directory), directory),
        log=osp.relpath(_log_file(runner), directory),
        train_images=len(train_set),
        epochs=runner.max_epochs,
        iterations=runner.max_iters,
        threads=torch.get_num_threads(),
        minutes=(time.time() - start) / 60,
        teacher_sha256=teacher_sha256)
    if hasattr(train_set, 'changed_fraction'):
        record['labels_changed'] = train_set.changed_fraction
    write_json(osp.join(directory, TRAIN_FILE), record)
    return record


def _test(spec: dict, key: str, last: str) -> dict:
    """Test the run's last checkpoint, or the epoch's that the test names,
    on one evaluation."""
    directory = spec['directory']
    start = time.time()
    test = spec['tests'][key]
    checkpoint = last if test['epoch'] is None else osp.join(
        directory, f'epoch_{test["epoch"]}.pth')
    if test['epoch'] is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'{checkpoint} is missing: testing epoch {test["epoch"]} needs '
            'the checkpoint of every epoch, kept when the run trains with '
            'keep_checkpoints=True and its seed in EvalSpec.each_epoch.')
    cfg = Config(
        dict(
            spec['train_cfg'],
            **test['parts'],
            work_dir=osp.join(directory, 'tests', key[:16]),
            experiment_name=f'test_{time.time_ns()}',
            load_from=checkpoint,
            resume=False,
            train_dataloader=None,
            train_cfg=None,
            optim_wrapper=None,
            param_scheduler=None))
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressHook(osp.join(directory, PROGRESS_FILE)))
    metrics = {name: float(value) for name, value in runner.test().items()}
    test_set = runner.test_dataloader.dataset
    result = dict(
        metrics,
        key=key,
        epoch=test['epoch'],
        test_images=len(test_set),
        classes=list(test_set.metainfo['classes']),
        log=osp.relpath(_log_file(runner), directory),
        minutes=(time.time() - start) / 60)
    if 'accuracy/top1' in metrics:
        result['accuracy'] = metrics['accuracy/top1']
    os.makedirs(osp.join(directory, 'tests'), exist_ok=True)
    write_json(test_file(directory, key), result)
    return result


def saved(directory: str,
          key: str,
          tests: List[str],
          teacher_sha256: Optional[str] = None) -> Optional[dict]:
    """What a run left: its training record (None if it did not finish
    training with ``key``, from teacher weights of SHA-256
    ``teacher_sha256``, see :func:`weights_sha256`) and the results of
    ``tests`` it finished."""
    record = read_json(osp.join(directory, TRAIN_FILE))
    if record is None or record.get('key') != key \
            or record.get('teacher_sha256') != teacher_sha256:
        return None
    results = {}
    for test in tests:
        result = read_json(test_file(directory, test))
        if result is not None and result.get('key') == test:
            results[test] = result
    return dict(train=record, tests=results)


def _start_afresh_unless_resumable(directory: str, started: dict) -> None:
    """Remove what ``directory`` holds (but the running job's submitit
    files) unless it was started as ``started`` (the same key and teacher
    weights), which training may resume; record ``started``."""
    if read_json(osp.join(directory, STARTED_FILE)) == started:
        return
    for name in os.listdir(directory):
        path = osp.join(directory, name)
        if name == SUBMITIT_FOLDER:
            continue
        if osp.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    write_json(osp.join(directory, STARTED_FILE), started)


def run_stage(spec: dict) -> dict:
    """A job: train the run unless its training is saved, then test its
    checkpoint on each evaluation not yet saved.

    Args:
        spec (dict): ``directory`` (absolute), ``key``, ``train_cfg`` (a
            runner config as a dict), ``tests`` (test key -> ``parts``: its
            test loader, evaluator and loop; ``epoch``: the epoch whose
            checkpoint it tests, None for the last), ``init`` (see
            :func:`check_init`), ``teacher_checkpoint`` (the teacher's
            checkpoint file, None without a teacher) and ``threads`` (CPU
            threads for torch).

    Returns:
        dict: ``train`` (the training record), ``tests`` (result by test
        key), ``trained`` (trained by this job) and ``tested`` (the test
        keys this job ran).
    """
    torch.set_num_threads(spec['threads'])
    directory = spec['directory']
    os.makedirs(directory, exist_ok=True)
    teacher = spec.get('teacher_checkpoint')
    teacher_sha256 = weights_sha256(teacher) if teacher else None
    done = saved(directory, spec['key'], list(spec['tests']), teacher_sha256)
    trained = done is None
    if trained:
        _start_afresh_unless_resumable(
            directory, dict(key=spec['key'], teacher_sha256=teacher_sha256))
    record = _train(spec, teacher_sha256) if trained else done['train']
    results = {} if trained else done['tests']
    checkpoint = osp.join(directory, record['checkpoint'])
    tested = [key for key in spec['tests'] if key not in results]
    for key in tested:
        results[key] = _test(spec, key, checkpoint)
    return dict(train=record, tests=results, trained=trained, tested=tested)


def export_backbone(checkpoint: str, out_file: str, record: dict) -> None:
    """Save the ``backbone.`` weights of a training checkpoint to
    ``out_file``, and ``record`` with the file's SHA-256 beside it (same
    name, ``.json``)."""
    state = load_checkpoint_safely(checkpoint, map_location='cpu')
    backbone = {
        key: value
        for key, value in state['state_dict'].items()
        if key.startswith('backbone.')
    }
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    temporary = f'{out_file}.tmp'
    torch.save(dict(state_dict=backbone), temporary)
    os.replace(temporary, out_file)
    write_json(
        osp.splitext(out_file)[0] + '.json',
        dict(record, sha256=file_sha256(out_file)))


def _loss_curve(runner: Runner) -> List[List[float]]:
    """(iteration, loss) of a training run, as logged."""
    return [[step, value]
            for step, value in load_scalars(runner.work_dir).get('loss', [])]


def run_pretraining(spec: dict) -> Dict[str, str]:
    """A job: self-supervised pre-training, then its backbone exported
    with its record.

    Args:
        spec (dict): ``directory``, ``train_cfg``, ``record`` (what the
            backbone's record states: settings, command, seed) and
            ``threads``.

    Returns:
        dict: ``checkpoint``, the backbone's path.
    """
    torch.set_num_threads(spec['threads'])
    cfg = Config(spec['train_cfg'])
    cfg.experiment_name = f'pretrain_{time.time_ns()}'
    runner = Runner.from_cfg(cfg)
    runner.register_hook(
        ProgressHook(osp.join(spec['directory'], PROGRESS_FILE)))
    runner.train()
    backbone = osp.join(spec['directory'], 'backbone.pth')
    export_backbone(
        last_checkpoint(spec['directory']), backbone,
        dict(
            spec['record'],
            torch=torch.__version__,
            loss_curve=_loss_curve(runner)))
    return dict(checkpoint=backbone)
