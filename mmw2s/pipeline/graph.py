# Copyright (c) mmw2s contributors. All rights reserved.
"""A study as a graph of runs: each (setting, seed, stage) resolved against
the data, keyed by exactly what its training and its test depend on, and
identical runs merged (``transfer/weak`` and ``kd/weak`` train once)."""
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np
from mmengine.config import Config, ConfigDict

from mmw2s.datasets.dataset_wrapper import subset_indices

from .data import (DataSummary, iterations, part_images, resolve_size,
                   split_cfg, validation_size)
from .plan import (EvalSpec, file_sha256, resolve_stage, settings_key,
                   stage_where)
from .stages import TEST_BATCH, classifier_cfg, eval_set_cfg, test_parts

# stage fields that do not change what is trained
NOT_TRAINING = ('title', 'name', 'test', 'min_iters')


class Entry(NamedTuple):
    """Where a stage of a setting and seed gets its result: the run that
    trains it, the key of its test, and, when it is tested after every
    epoch (see ``EvalSpec.each_epoch``), the keys of those tests in epoch
    order (the last is ``test``)."""
    run: str
    test: str
    epoch_tests: Tuple[str, ...] = ()


@dataclass
class Run:
    """One training run and the tests of its checkpoint.

    Attributes:
        key (str): SHA-256 of everything its training depends on.
        directory (str): Its directory, relative to the study's work dir.
        seed (int): Seed of the run and of its data split.
        stage (ConfigDict): The stage, with ``epochs`` and ``samples``
            resolved against the data.
        val_samples (int): Size of the validation part.
        teacher (str, optional): Key of the teacher's run.
        teacher_stage (ConfigDict, optional): The teacher's stage.
        tests (dict): Test key -> ``parts`` (what its runner needs to test
            it, :func:`mmw2s.pipeline.stages.test_parts`) and ``epoch``
            (the epoch whose checkpoint it tests; None: the last one).
        cost (int): Training iterations.
        used_by (list[str]): ``setting/stage`` of every stage it serves.
        notes (list[str]): How the data changed what was asked.
    """
    key: str
    directory: str
    seed: int
    stage: ConfigDict
    val_samples: int
    teacher: Optional[str]
    teacher_stage: Optional[ConfigDict]
    tests: Dict[str, dict] = field(default_factory=dict)
    cost: int = 0
    used_by: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """What progress lines call it."""
        return f'seed {self.seed} {self.used_by[0]}'


def train_images(stage: ConfigDict, labels: np.ndarray, seed: int,
                 val_samples: int) -> int:
    """How many images the stage trains on (its part, its samples, its
    classes), from the training split's labels."""
    indices = subset_indices(
        len(labels), stage.train, seed, stage.get('samples'), val_samples)
    if stage.get('classes'):
        return int(np.isin(labels[indices], list(stage.classes)).sum())
    return len(indices)


class Study:
    """The runs of some settings and seeds of a study config.

    Args:
        plan (Config): The study config.
        settings (list[str]): The settings.
        seeds (list[int]): The seeds.
        evaluation (EvalSpec): What every stage is tested on.
        train (DataSummary): The training split.
        test (DataSummary, optional): The test split (when tested on it).
        pretrained (str, optional): The pre-trained backbone, when a stage
            starts from it (None before pre-training: a dry run).
    """

    def __init__(self, plan: Config, settings: List[str], seeds: List[int],
                 evaluation: EvalSpec, train: DataSummary,
                 test: Optional[DataSummary], pretrained: Optional[str]):
        self.plan = plan
        self.evaluation = evaluation
        self.train = train
        self.test = test
        self.pretrained = pretrained
        self.checkpoint_sha256: Dict[str, str] = {}
        self.runs: Dict[str, Run] = {}
        self.entries: Dict[str, Dict[int, Dict[str, Entry]]] = {}
        self.val = validation_size(plan, self.train.size)
        for setting in settings:
            self.entries[setting] = {}
            for seed in seeds:
                self.entries[setting][seed] = {}
                for name in plan.settings[setting].stages:
                    self.entries[setting][seed][name] = self._add(
                        setting, name, seed)

    def _sha256(self, path: str) -> str:
        if path not in self.checkpoint_sha256:
            self.checkpoint_sha256[path] = file_sha256(path)
        return self.checkpoint_sha256[path]

    def _resolved(self, setting: str, name: str, seed: int):
        """The stage with its samples and epochs resolved, and notes on
        what the data changed."""
        stage = resolve_stage(self.plan, setting, name)
        stage.data_classes = len(self.train.classes)
        where = stage_where(setting, name)
        notes = []
        available = part_images(self.train.size, self.val.count, stage.train)
        samples = resolve_size(
            stage.get('samples'), available, f'{where}.samples')
        if samples.clamped:
            notes.append(f'asked for {samples.asked:,} training images; the '
                         f'data has {available:,}, so it used those')
        stage.samples = samples.count if samples.asked is not None else None
        images = train_images(stage, self.train.labels, seed, self.val.count)
        batch = self.plan.models[stage.model].batch_size
        min_iters = stage.get('min_iters', self.plan.get('min_iters', 0))
        floor = math.ceil(min_iters / iterations(images, batch))
        if floor > stage.epochs:
            notes.append(f'{stage.epochs} epochs of {images:,} images are '
                         f'{iterations(images, batch, stage.epochs)} '
                         f'iterations, below the floor of {min_iters}: '
                         f'trained {floor} epochs')
            stage.epochs = floor
        return stage, images, notes

    def _dependencies(self, stage: ConfigDict, teacher: Optional[str]) -> dict:
        dependencies = {}
        if teacher:
            dependencies['teacher'] = teacher
        init = stage.get('init')
        if init == 'pretrain':
            # unknown until pre-training has run (a dry run before it)
            dependencies['init_sha256'] = self._sha256(
                self.pretrained) if self.pretrained else 'to pre-train'
        elif init:
            dependencies['init_sha256'] = self._sha256(init['checkpoint'])
        return dependencies

    def _training_key(self, stage: ConfigDict, seed: int,
                      teacher: Optional[str]) -> str:
        recipe = {
            k: v
            for k, v in self.plan.models[stage.model].items() if k != 'title'
        }
        dataset = split_cfg(self.plan, 'train', self.plan.train_pipeline)
        dataset.pop('data_root', None)
        init = stage.get('init')
        return settings_key(
            dict(
                stage={
                    k: v
                    for k, v in stage.items() if k not in NOT_TRAINING
                    and not (k == 'init' and isinstance(init, dict))
                },
                init_fields={
                    k: v
                    for k, v in init.items() if k != 'checkpoint'
                } if isinstance(init, dict) else None,
                classifier=classifier_cfg(self.plan, stage),
                recipe=recipe,
                dataset=dataset,
                images_sha256=self.train.images_sha256,
                labels_sha256=self.train.labels_sha256,
                val_samples=self.val.count,
                data_preprocessor=self.plan.data_preprocessor,
                seed=seed,
                dependencies=self._dependencies(stage, teacher)))

    def _test(self, run: Run) -> Tuple[str, Tuple[str, ...]]:
        """Add the run's test on the evaluation split, and its tests after
        each epoch when asked; their keys."""
        split, asked, each_epoch = self.evaluation
        if split == 'val':
            samples, digest = None, None
        else:
            samples = resolve_size(asked, self.test.size,
                                   '--test-samples').count if asked else None
            digest = (self.test.images_sha256, self.test.labels_sha256)
        eval_set = eval_set_cfg(self.plan, split, run.seed, self.val.count,
                                samples)
        content = dict(
            run=run.key,
            split=split,
            samples=samples,
            test_sha256=digest,
            test=run.stage.get('test', {}),
            test_pipeline=self.plan.test_pipeline)
        parts = test_parts(self.plan, run.stage, eval_set)
        key = settings_key(content)
        run.tests[key] = dict(parts=parts, epoch=None)
        if split != 'test' or run.seed not in each_epoch or \
                not run.stage.get('keep_checkpoints'):
            return key, ()
        epoch_keys = []
        for epoch in range(1, run.stage.epochs):
            epoch_key = settings_key(dict(content, epoch=epoch))
            run.tests[epoch_key] = dict(parts=parts, epoch=epoch)
            epoch_keys.append(epoch_key)
        return key, tuple(epoch_keys) + (key, )

    def _add(self, setting: str, name: str, seed: int) -> Entry:
        stage, images, notes = self._resolved(setting, name, seed)
        teacher, teacher_stage = None, None
        if stage.get('teacher'):
            teacher = self.entries[setting][seed][stage.teacher].run
            teacher_stage = self.runs[teacher].stage
        key = self._training_key(stage, seed, teacher)
        if key not in self.runs:
            self.runs[key] = Run(
                key=key,
                directory=osp.join(f'seed_{seed}', f'{name}-{key[:10]}'),
                seed=seed,
                stage=stage,
                val_samples=self.val.count,
                teacher=teacher,
                teacher_stage=teacher_stage,
                cost=iterations(images,
                                self.plan.models[stage.model].batch_size,
                                stage.epochs),
                notes=notes)
        run = self.runs[key]
        run.used_by.append(f'{setting}/{name}')
        return Entry(key, *self._test(run))

    def test_images(self) -> int:
        """Images each stage is tested on (before a test's classes)."""
        if self.evaluation.split == 'val':
            return self.val.count
        return resolve_size(self.evaluation.samples, self.test.size,
                            '--test-samples').count

    def test_cost(self) -> int:
        """Iterations of one test."""
        return iterations(self.test_images(), TEST_BATCH)
