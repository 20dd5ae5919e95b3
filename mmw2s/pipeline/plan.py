# Copyright (c) mmw2s contributors. All rights reserved.
"""What a study config asks for: its settings and stages, checked, and the
keys that name a run's exact training and testing."""
import copy
import hashlib
import json
from typing import List, NamedTuple, Optional, Tuple

from mmengine.config import Config, ConfigDict

# the fields of a stage's `test` (see mmw2s.pipeline.stages)
TEST_FIELDS = ('classes', 'evaluator', 'features')
# the fields of a stage's `init` when it names a checkpoint file
INIT_FIELDS = ('checkpoint', 'prefix', 'ignore')
# the parts of the training split a stage can train on
TRAIN_PARTS = ('train', 'A', 'B')
# changes whenever what a key stands for changes, so that no result of an
# older pipeline is reused under a key that now means something else
KEY_VERSION = 2


class EvalSpec(NamedTuple):
    """What every stage is tested on.

    Args:
        split (str): ``'test'`` (the test split) or ``'val'`` (the
            validation part held out from the training images, to choose
            hyper-parameters).
        samples (int, optional): Test only a seeded draw of ``samples`` test
            images. Defaults to None (all).
        each_epoch (tuple[int]): Seeds whose runs of stages with
            ``keep_checkpoints=True`` keep every epoch's checkpoint and,
            on the test split, are also tested after every epoch, on the
            same images: the protocol of authors who keep the best epoch on
            the test set. Those results are reported apart and never used
            for a choice. Defaults to ().
    """
    split: str = 'test'
    samples: Optional[int] = None
    each_epoch: Tuple[int, ...] = ()


def plain(value):
    """``value`` with ConfigDicts turned into dicts and tuples into lists,
    as JSON sees it."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def settings_key(content) -> str:
    """SHA-256 of the canonical JSON of ``content`` (and of the key
    version)."""
    text = json.dumps(
        dict(content=plain(content), key_version=KEY_VERSION),
        sort_keys=True,
        default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


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


def _check_init(init, where: str) -> None:
    if init in (None, 'pretrain'):
        return
    if not isinstance(
            init,
            dict) or 'checkpoint' not in init or set(init) - set(INIT_FIELDS):
        raise ValueError(
            f"{where}.init is {init!r}; expected None, 'pretrain' or "
            f'dict(checkpoint=FILE) with optional prefix and ignore.')


def _check_classes(stage: ConfigDict, where: str) -> None:
    """A stage that learns some classes (renumbered) is tested on the same
    classes, unless its test uses features (few-shot episodes)."""
    test = stage.get('test', {})
    if not stage.get('classes') or test.get('features'):
        return
    if list(test.get('classes') or []) != list(stage.classes):
        raise ValueError(
            f'{where}.classes is {list(stage.classes)} (labels renumbered '
            f'0..{len(stage.classes) - 1}), but {where}.test.classes is '
            f'{test.get("classes")}; expected the same classes (or '
            'test.features=True for an episodic test).')


def resolve_stage(plan: Config, setting: str, name: str) -> ConfigDict:
    """A stage of ``setting`` with the setting's ``defaults`` under it and
    its references checked.

    A field the stage sets replaces the default's value whole: a stage's
    ``loss`` is its own, never merged with the default ``loss``.

    Returns:
        ConfigDict: The stage, with ``name``.
    """
    spec = plan.settings[setting]
    stages = list(spec.stages)
    fields = copy.deepcopy(dict(spec.get('defaults', {})))
    fields.update(copy.deepcopy(dict(spec.stages[name])))
    stage = ConfigDict(fields, name=name)
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
    _check_classes(stage, where)
    _check_init(stage.get('init'), where)
    if stage.get('train') not in TRAIN_PARTS:
        raise ValueError(f'{where}.train is {stage.get("train")!r}; '
                         f'expected one of {TRAIN_PARTS}.')
    if not isinstance(stage.get('epochs'), int) or stage.epochs < 1:
        raise ValueError(f'{where}.epochs is {stage.get("epochs")!r}; '
                         'expected an int >= 1.')
    return stage


def stage_where(setting: str, name: str) -> str:
    """The config key of a stage, for messages."""
    return f'settings.{setting}.stages.{name}'
