# Copyright (c) mmw2s contributors. All rights reserved.
"""Running the pipeline's stages: each is an ordinary mmengine ``Runner``
run, reused only when its settings' key matches, resumed when cut short."""
import json
import logging
import os
import os.path as osp
import shutil
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS

from mmw2s.utils import load_checkpoint_safely

from .plan import (EvalSpec, data_fingerprint, file_sha256, part_size,
                   pretrain_settings, resolve_stage, settings_key,
                   stage_settings)
from .report import load_scalars
from .stages import (TEST_BATCH, eval_dataset_cfg, iterations, pretrain_cfg,
                     stage_dir, training_cfg)

RESULT_FILE = 'result.json'
Advance = Callable[[int], None]


class ProgressHook(Hook):
    """Calls ``advance(1)`` after each training and test iteration."""

    def __init__(self, advance: Advance) -> None:
        self.advance = advance

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.advance(1)

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        self.advance(1)


class PipelineEvents:
    """What the pipeline tells its caller (a progress display).

    Override any of the three; the defaults do nothing.
    """

    def stage_started(self, label: str, cost: int) -> None:
        """A stage of ``cost`` iterations starts (or is reused)."""

    def advance(self, iterations: int) -> None:
        """``iterations`` more iterations are done."""

    def stage_finished(self, label: str, result: dict, seconds: float,
                       reused: bool) -> None:
        """A stage ended with ``result`` (``reused``: from an earlier
        run with the same settings)."""


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


def _quiet_console(runner: Runner) -> None:
    for handler in runner.logger.handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.WARNING)


def train_and_test(cfg: Config, advance: Advance) -> dict:
    """Train (or resume) a stage, then test it once.

    Returns:
        dict: Every test metric by its name (e.g. ``accuracy/top1``),
        ``accuracy`` (top-1, %) when the test measures it, and
        ``train_images``, ``test_images`` and ``classes`` (the tested
        classes), read from the datasets the runner built.
    """
    cfg.experiment_name = f'{cfg.experiment_name}_{time.time_ns()}'
    runner = Runner.from_cfg(cfg)
    _quiet_console(runner)
    runner.register_hook(ProgressHook(advance), priority='LOWEST')
    runner.train()
    metrics = {name: float(value) for name, value in runner.test().items()}
    test_set = runner.test_dataloader.dataset
    result = dict(
        metrics,
        train_images=len(runner.train_dataloader.dataset),
        test_images=len(test_set),
        classes=list(test_set.metainfo['classes']))
    if 'accuracy/top1' in metrics:
        result['accuracy'] = metrics['accuracy/top1']
    return result


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine saved last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as file:
        return file.read().strip()


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


def matching_backbone(path: str, settings: dict) -> bool:
    """Whether the backbone at ``path`` was pre-trained with ``settings``.

    Raises:
        ValueError: Its record matches but the file's SHA-256 does not.
    """
    record = read_json(osp.splitext(path)[0] + '.json')
    if record is None or record.get('settings') != settings \
            or not osp.isfile(path):
        return False
    if file_sha256(path) != record['sha256']:
        raise ValueError(f'{path} does not have the SHA-256 its record '
                         f'states ({record["sha256"]}); it is damaged or '
                         'was replaced. Regenerate it (see its record).')
    return True


def pretrain_loss_curve(work_dir: str) -> List[List[float]]:
    """(iteration, loss) of a pre-training run, as logged."""
    return [[step, value]
            for step, value in load_scalars(work_dir).get('loss', [])]


class Pipeline:
    """Runs the settings of a pipeline config for some seeds.

    Args:
        plan (Config): The pipeline config.
        work_dir (str): Output directory.
        evaluation (EvalSpec): What every stage is tested on.
        events (PipelineEvents): Progress callbacks.
    """

    def __init__(self, plan: Config, work_dir: str, evaluation: EvalSpec,
                 events: PipelineEvents) -> None:
        self.plan = plan
        self.work_dir = work_dir
        self.evaluation = evaluation
        self.events = events
        self.fingerprint = data_fingerprint(plan)
        self.pretrain_settings = pretrain_settings(plan, self.fingerprint)
        self.pretrain_key = settings_key(self.pretrain_settings)
        self.pretrained: Optional[str] = None

    def data_classes(self) -> List[str]:
        """The class names of the data (its dataset's metainfo)."""
        dataset = eval_dataset_cfg(self.plan, self.evaluation, 0)
        return list(DATASETS.build(dataset).metainfo['classes'])

    # Costs, for the progress bar
    def eval_images(self) -> int:
        """Images each stage is tested on."""
        if self.evaluation.split == 'val':
            return part_size(self.plan, 'val')
        return part_size(self.plan, None, 'test', self.evaluation.samples)

    def stage_cost(self, stage) -> int:
        """Iterations of a training stage."""
        recipe = self.plan.models[stage.model]
        images = part_size(self.plan, stage.train, 'train',
                           stage.get('samples'))
        return iterations(images, recipe.batch_size, stage.epochs) + \
            iterations(self.eval_images(), TEST_BATCH)

    def pretrain_cost(self) -> int:
        """Iterations of pre-training (0 when a matching checkpoint
        exists)."""
        if self.pretrain_needed() is None:
            return 0
        spec = self.plan.pretrain
        return iterations(
            part_size(self.plan, None), spec.batch_size, spec.epochs)

    def uses_pretraining(self, settings: List[str]) -> bool:
        """Whether a stage of ``settings`` starts from the pre-training."""
        return any(
            resolve_stage(self.plan, setting, name).get('init') == 'pretrain'
            for setting in settings
            for name in self.plan.settings[setting].stages)

    def total_cost(self, settings: List[str], seeds: List[int]) -> int:
        """Iterations of everything asked (reused stages included)."""
        per_seed = sum(
            self.stage_cost(resolve_stage(self.plan, setting, name))
            for setting in settings
            for name in self.plan.settings[setting].stages)
        pretraining = self.pretrain_cost() if self.uses_pretraining(
            settings) else 0
        return pretraining + per_seed * len(seeds)

    # Pre-training
    def pretrain_dir(self) -> str:
        return osp.join(self.work_dir, f'pretrain-{self.pretrain_key[:10]}')

    def pretrain_needed(self) -> Optional[str]:
        """The directory to pre-train in, or None if a backbone with these
        settings exists (committed, or from an earlier run)."""
        for path in (self.plan.pretrain.checkpoint,
                     osp.join(self.pretrain_dir(), 'backbone.pth')):
            if matching_backbone(path, self.pretrain_settings):
                self.pretrained = path
                return None
        return self.pretrain_dir()

    def pretrain(self, command: str) -> str:
        """The pre-trained backbone: a matching one, or trained now on the
        training images (never their labels)."""
        work_dir = self.pretrain_needed()
        label = f'pretrain ({self.plan.pretrain.title})'
        cost = self.pretrain_cost()
        self.events.stage_started(label, cost)
        if work_dir is None:
            self.events.stage_finished(label, dict(checkpoint=self.pretrained),
                                       0.0, True)
            return self.pretrained
        start = time.time()
        cfg = pretrain_cfg(self.plan, work_dir)
        cfg.experiment_name = f'pretrain_{time.time_ns()}'
        runner = Runner.from_cfg(cfg)
        _quiet_console(runner)
        runner.register_hook(
            ProgressHook(self.events.advance), priority='LOWEST')
        runner.train()
        self.pretrained = osp.join(work_dir, 'backbone.pth')
        export_backbone(
            last_checkpoint(work_dir), self.pretrained,
            dict(
                settings=self.pretrain_settings,
                command=command,
                seed=self.plan.pretrain.seed,
                torch=torch.__version__,
                loss_curve=pretrain_loss_curve(work_dir)))
        self.events.stage_finished(label, dict(checkpoint=self.pretrained),
                                   time.time() - start, False)
        return self.pretrained

    def export_pretrained(self) -> None:
        """Copy the pre-trained backbone and its record to the config's
        ``pretrain.checkpoint``, to be committed."""
        target = self.plan.pretrain.checkpoint
        if osp.abspath(self.pretrained) == osp.abspath(target):
            return
        os.makedirs(osp.dirname(osp.abspath(target)), exist_ok=True)
        for source, destination in ((self.pretrained, target),
                                    (osp.splitext(self.pretrained)[0] +
                                     '.json',
                                     osp.splitext(target)[0] + '.json')):
            shutil.copyfile(source, f'{destination}.tmp')
            os.replace(f'{destination}.tmp', destination)

    # Training stages
    def run_setting(self, setting: str, seed: int) -> Dict[str, dict]:
        """Run (or reuse) every stage of ``setting`` for ``seed``.

        Returns:
            dict: The result of each stage, by name.
        """
        results: Dict[str, dict] = {}
        for name in self.plan.settings[setting].stages:
            stage = resolve_stage(self.plan, setting, name)
            results[name] = self._run_stage(setting, stage, seed, results)
        return results

    def _run_stage(self, setting: str, stage, seed: int,
                   done: Dict[str, dict]) -> dict:
        dependencies = {}
        if stage.get('init') == 'pretrain':
            dependencies['pretrain'] = self.pretrain_key
        teacher = None
        if stage.get('teacher'):
            teacher = resolve_stage(self.plan, setting, stage.teacher)
            dependencies['teacher'] = done[stage.teacher]['key']
        key = settings_key(
            stage_settings(self.plan, stage, seed, self.evaluation,
                           self.fingerprint, dependencies))
        work_dir = stage_dir(self.work_dir, seed, setting, stage.name, key)
        label = f'seed {seed} {setting}/{stage.name}'
        cost = self.stage_cost(stage)
        self.events.stage_started(label, cost)
        result = read_json(osp.join(work_dir, RESULT_FILE))
        if result is not None and result.get('key') == key:
            self.events.advance(cost)
            self.events.stage_finished(label, result, 0.0, True)
            return result
        os.makedirs(work_dir, exist_ok=True)
        start = time.time()
        cfg = training_cfg(
            self.plan,
            stage,
            seed,
            work_dir,
            self.evaluation,
            pretrained=self.pretrained,
            teacher_ckpt=done[stage.teacher]['checkpoint']
            if teacher else None,
            teacher_stage=teacher)
        done_before = [0]

        def advance(count: int) -> None:
            done_before[0] += count
            self.events.advance(count)

        result = train_and_test(cfg, advance)
        result.update(
            key=key,
            checkpoint=last_checkpoint(work_dir),
            requested_samples=stage.get('samples'),
            evaluation=self.evaluation._asdict(),
            minutes=(time.time() - start) / 60)
        write_json(osp.join(work_dir, RESULT_FILE), result)
        self.events.advance(max(0, cost - done_before[0]))
        self.events.stage_finished(label, result, time.time() - start, False)
        return result

    def stage_dirs(self, setting: str, seed: int,
                   results: Dict[str, dict]) -> Dict[str, str]:
        """The directory of each stage of a finished setting."""
        return {
            name: stage_dir(self.work_dir, seed, setting, name, result['key'])
            for name, result in results.items()
        }
