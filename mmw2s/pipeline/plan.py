# Copyright (c) mmw2s contributors. All rights reserved.
"""What a pipeline config asks for: its settings and stages, the data they
read, and the key that names a stage's exact settings."""
import copy
import gzip
import hashlib
import json
import os.path as osp
from typing import Dict, List, NamedTuple, Optional

from mmengine.config import Config, ConfigDict

from mmw2s.datasets.idx_dataset import SPLIT_FILES, find_idx_file

# the fields of a stage's `test` (see mmw2s.pipeline.stages)
TEST_FIELDS = ('classes', 'evaluator', 'features')


class EvalSpec(NamedTuple):
    """What every stage is tested on.

    Args:
        split (str): ``'test'`` (the test split) or ``'val'`` (the
            validation part held out from the training images, to choose
            hyper-parameters).
        samples (int, optional): Test only a seeded draw of ``samples`` test
            images. Defaults to None (all).
    """
    split: str = 'test'
    samples: Optional[int] = None


def _plain(value):
    """``value`` with ConfigDicts turned into dicts and tuples into lists,
    as JSON sees it."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def settings_key(content) -> str:
    """SHA-256 of the canonical JSON of ``content``."""
    text = json.dumps(_plain(content), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def data_files(plan: Config) -> Dict[str, str]:
    """Paths of the IDX files of ``plan.data`` that exist, by file name.

    The training images must exist; the other files are needed only by the
    stages that read them (pre-training reads no labels), and those stages'
    datasets name a missing file.
    """
    files = {}
    for names in SPLIT_FILES.values():
        for name in names:
            for candidate in (name, f'{name}.gz'):
                path = osp.join(plan.data.data_root, candidate)
                if osp.isfile(path):
                    files[name] = path
    images = SPLIT_FILES['train'][0]
    if images not in files:
        find_idx_file(plan.data.data_root, images,
                      '(data.data_root of the pipeline config)')
    return files


def data_fingerprint(plan: Config) -> Dict[str, str]:
    """SHA-256 of each IDX file: stages are keyed by the data's content, not
    by where it lies."""
    return {
        name: file_sha256(path)
        for name, path in sorted(data_files(plan).items())
    }


def count_images(path: str) -> int:
    """The number of images an IDX file announces in its header."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as file:
        header = file.read(8)
    return int.from_bytes(header[4:8], 'big')


def part_size(plan: Config,
              part: Optional[str],
              split: str = 'train',
              samples: Optional[int] = None) -> int:
    """How many images a dataset of ``part`` of ``split`` holds (see
    ``IDXDataset``), read from the IDX header."""
    total = count_images(data_files(plan)[SPLIT_FILES[split][0]])
    if part is not None:
        held_out = plan.data.get('val_samples', 0)
        rest = total - held_out
        total = dict(
            val=held_out, train=rest, A=rest // 2, B=rest - rest // 2)[part]
    return total if samples is None else min(total, samples)


def setting_names(plan: Config, suite: List[str]) -> List[str]:
    """The settings of ``suite`` (``['all']``: every setting), checked."""
    known = list(plan.settings)
    if suite == ['all']:
        return known
    unknown = [name for name in suite if name not in plan.settings]
    if unknown:
        raise ValueError(f'--suite names unknown settings {unknown}; the '
                         f'config defines {known} (or use "all").')
    return list(suite)


def resolve_stage(plan: Config, setting: str, name: str) -> ConfigDict:
    """A stage of ``setting`` with the setting's ``defaults`` filled in and
    its references checked.

    Returns:
        ConfigDict: The stage, with ``name``.
    """
    spec = plan.settings[setting]
    stages = list(spec.stages)
    stage = ConfigDict(copy.deepcopy(spec.get('defaults', {})))
    stage.update(copy.deepcopy(spec.stages[name]))
    stage.name = name
    where = f'settings.{setting}.stages.{name}'
    if stage.get('model') not in plan.models:
        raise KeyError(f'{where}.model is {stage.get("model")!r}; expected '
                       f'one of {sorted(plan.models)}.')
    if stage.get('teacher') is not None:
        teacher = stage.teacher
        if teacher not in stages or stages.index(teacher) >= stages.index(
                name):
            raise KeyError(f'{where}.teacher is {teacher!r}; expected a '
                           'stage listed before it in the same setting.')
        if not stage.get('loss'):
            raise KeyError(f'{where} has a teacher but no loss.')
        teacher_classes = resolve_stage(plan, setting, teacher).get('classes')
        if teacher_classes != stage.get('classes'):
            raise ValueError(
                f'{where}.classes is {stage.get("classes")}, but its '
                f'teacher {teacher!r} learns classes {teacher_classes}; '
                'expected the same classes.')
    unknown = set(stage.get('test', {})) - set(TEST_FIELDS)
    if unknown:
        raise KeyError(f'{where}.test has unknown fields {sorted(unknown)}; '
                       f'expected some of {TEST_FIELDS}.')
    if stage.get('init') not in (None, 'pretrain'):
        raise ValueError(f"{where}.init is {stage.init!r}; expected None or "
                         "'pretrain'.")
    if stage.get('train') not in ('train', 'A', 'B'):
        raise ValueError(f'{where}.train is {stage.get("train")!r}; '
                         "expected 'train', 'A' or 'B'.")
    return stage


def pretrain_settings(plan: Config, fingerprint: Dict[str, str]) -> dict:
    """Everything the pre-trained backbone depends on: the pre-training
    recipe and the training images (not their labels, not their path)."""
    recipe = {
        key: value
        for key, value in plan.pretrain.items()
        if key not in ('title', 'checkpoint', 'student')
    }
    data = {
        key: value
        for key, value in plan.data.items()
        if key not in ('data_root', 'val_samples')
    }
    images = SPLIT_FILES['train'][0]
    return _plain(
        dict(recipe=recipe, data=data, images_sha256=fingerprint[images]))


def stage_settings(plan: Config, stage: ConfigDict, seed: int,
                   evaluation: EvalSpec, fingerprint: Dict[str, str],
                   dependencies: Dict[str, str]) -> dict:
    """Everything a training stage's result depends on (its key's content).

    Args:
        plan (Config): The pipeline config.
        stage (ConfigDict): The resolved stage.
        seed (int): The seed.
        evaluation (EvalSpec): What it is tested on.
        fingerprint (dict): :func:`data_fingerprint`.
        dependencies (dict): Keys of the stages it starts from or learns
            from (``'pretrain'``, ``'teacher'``).
    """
    data = {k: v for k, v in plan.data.items() if k != 'data_root'}
    return _plain(
        dict(
            stage={
                k: v
                for k, v in stage.items() if k != 'title'
            },
            recipe=plan.models[stage.model],
            data=data,
            data_sha256=fingerprint,
            train_pipeline=plan.train_pipeline,
            test_pipeline=plan.test_pipeline,
            data_preprocessor=plan.data_preprocessor,
            seed=seed,
            evaluation=evaluation._asdict(),
            dependencies=dependencies))
