# Copyright (c) mmw2s contributors. All rights reserved.
"""Every training config under configs/ loads, builds its model without
weights, and takes two training steps with its own optimizer settings on
generated data of its input size; and its model, built with generated
checkpoints in place of those it names, loads each of them in
``init_weights``."""
import ast
import copy
import functools
import glob
import os.path as osp
import re
from typing import Callable, Dict, List

import mmpretrain
import pytest
import torch
import yaml
from conftest import REPO_ROOT, parsed_config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401

TRAINING_CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path and not any(f'{osp.sep}{kind}{osp.sep}' in path
                                        for kind in ('pipeline', 'study'))
    and not osp.basename(path).startswith('_'))


def test_configs_are_found():
    assert len(TRAINING_CONFIGS) > 30


def input_size(path: str) -> int:
    """The config's input size; 32 for the fully convolutional few-shot
    ResNets too (their 80 x 80 images would make the test slow)."""
    return 224 if path.endswith('_in1k.py') else 32


def shrink_episodes(cfg: dict) -> int:
    """Make the batches of EpisodeCentroidHeads in ``cfg`` small (one
    episode of one query a class); returns the images per episode, or 2
    without one."""
    images = 2
    for value in list(cfg.values()):
        if isinstance(value, dict):
            if value.get('type') == 'EpisodeCentroidHead':
                value.update(num_queries=1, num_episodes=1)
                images = value['num_ways'] * (value['num_shots'] + 1)
            else:
                images = max(images, shrink_episodes(value))
    return images


def shallow_vits(cfg: dict, deeper_than: int = 12) -> None:
    """ViTs of more than ``deeper_than`` blocks (by default, those deeper
    than ViT-B) keep their widths and 2 of their blocks: two steps of ViT-L
    take minutes on 2 CPU cores, and no setting of a config depends on the
    depth."""
    for value in list(cfg.values()):
        if not isinstance(value, dict):
            continue
        arch = value.get('arch')
        if value.get('type') == 'VisionTransformer' and isinstance(arch, str):
            widths = VisionTransformer.arch_zoo[arch.lower()]
            if widths['num_layers'] > deeper_than:
                value.arch = dict(widths, num_layers=2)
        else:
            shallow_vits(value, deeper_than)


def generated_batch(num_classes: int, size: int, num: int = 2) -> dict:
    samples = [DataSample().set_gt_label(i % num_classes) for i in range(num)]
    inputs = [
        torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
        for _ in samples
    ]
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize(
    'path',
    TRAINING_CONFIGS,
    ids=[osp.relpath(p, REPO_ROOT) for p in TRAINING_CONFIGS])
def test_config_builds_and_trains_two_iterations(path):
    cfg = parsed_config(path)
    assert 'mmcls::' not in cfg.pretty_text
    model_cfg = cfg.model
    if model_cfg.get('type') == 'WeakToStrongDistill':
        # the distill loss terms are logged as window averages, as the loss
        assert re.fullmatch(cfg.log_processor.mean_pattern,
                            'distill.w2s_kd_term')
    if model_cfg.pop('teacher_ckpt', None):
        # the teacher's checkpoint is not here: build with a random teacher
        model_cfg.allow_random_teacher = True
    batch_size = shrink_episodes(model_cfg)
    shallow_vits(model_cfg)
    if 'data_preprocessor' not in model_cfg:  # as the Runner fills it in
        model_cfg.data_preprocessor = cfg.data_preprocessor
    optim_wrapper_cfg = cfg.optim_wrapper
    if optim_wrapper_cfg.get('type') == 'AmpOptimWrapper':
        # mmengine refuses AmpOptimWrapper without an accelerator
        optim_wrapper_cfg.update(type='OptimWrapper')
        optim_wrapper_cfg.pop('loss_scale', None)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(model_cfg)
        optim_wrapper = build_optim_wrapper(model, optim_wrapper_cfg)
    num_classes = model_cfg.data_preprocessor.num_classes
    trainable = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trainable]
    model.train()
    for _ in range(2):
        log_vars = model.train_step(
            generated_batch(num_classes, input_size(path), batch_size),
            optim_wrapper)
        assert torch.isfinite(log_vars['loss'])
    assert any(not torch.equal(p, b) for p, b in zip(trainable, before))


def metafiles() -> Dict[str, dict]:
    """The content of each metafile model-index.yml imports, by path."""
    import yaml
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as file:
        paths = yaml.safe_load(file)['Import']
    contents = {}
    for path in paths:
        with open(osp.join(REPO_ROOT, path)) as file:
            contents[path] = yaml.safe_load(file)
    return contents


def test_model_index_lists_every_config():
    listed = set()
    for content in metafiles().values():
        collections = {c['Name'] for c in content['Collections']}
        for model in content['Models']:
            assert model['In Collection'] in collections
            assert osp.isfile(osp.join(REPO_ROOT, model['Config']))
            listed.add(osp.join(REPO_ROOT, model['Config']))
        readme = content['Collections'][0]['README']
        assert osp.isfile(osp.join(REPO_ROOT, readme))
    assert listed == set(TRAINING_CONFIGS)


def test_every_metafile_result_names_its_source():
    """``mim search`` shows a metafile's results as the config's own: each
    metric's name ends with whose number it is, e.g. ``Top 1 Accuracy
    (authors' README)``, ``(their pipeline)`` or ``(this project)``."""
    whose = r" \((authors'|their|this project)[^()]*\)$"
    for path, content in metafiles().items():
        for model in content['Models']:
            for result in model.get('Results', []):
                for metric in result['Metrics']:
                    assert re.search(whose, metric), (
                        f'{path}: {model["Name"]}: metric {metric!r} does not '
                        f"say whose it is; expected e.g. '{metric} (authors' "
                        "README)'")


def pretrained_modules(cfg: dict, path: tuple = ()) -> List[tuple]:
    """The ``(attribute path, module config)`` of every module in a model
    config whose ``init_cfg`` loads a checkpoint (type ``Pretrained``)."""
    found = []
    init_cfg = cfg.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        found.append((path, cfg))
    for key, value in cfg.items():
        if isinstance(value, dict) and key != 'init_cfg':
            # a distillation model names its student `architecture`
            found += pretrained_modules(value, path + (key, ))
    return found


CONFIG_BY_NAME = {
    osp.splitext(osp.basename(path))[0]: path
    for path in TRAINING_CONFIGS
}


@functools.lru_cache(maxsize=None)
def saved_weights(path: str) -> Dict[str, torch.Tensor]:
    """The weights the runner of the training config ``path`` saves, its
    model built with a random teacher and ViTs of 2 blocks (as the init
    weights test builds them); built once, for every config that loads
    them."""
    cfg = parsed_config(path)
    model_cfg = cfg.model
    shallow_vits(model_cfg, deeper_than=2)
    if model_cfg.pop('teacher_ckpt', None):
        model_cfg.allow_random_teacher = True
    if 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        return MODELS.build(model_cfg).state_dict()


def checkpoint_weights(checkpoint: str,
                       module: Callable[[], torch.nn.Module],
                       prefix: str = '') -> Dict[str, torch.Tensor]:
    """The weights ``checkpoint`` would hold: those of the config that
    writes it (``work_dirs/<config name>/...``) as its runner saves them, or,
    for a checkpoint from elsewhere (an mmpretrain model), those of
    ``module()`` under ``prefix``."""
    parts = checkpoint.split('/')
    if parts[0] == 'work_dirs' and parts[1] in CONFIG_BY_NAME:
        return saved_weights(CONFIG_BY_NAME[parts[1]])
    return {prefix + k: v for k, v in module().state_dict().items()}


def under(weights: Dict[str, torch.Tensor],
          prefix: str) -> Dict[str, torch.Tensor]:
    """The weights under ``prefix``, without it."""
    return {
        key[len(prefix):]: value
        for key, value in weights.items() if key.startswith(prefix)
    }


@pytest.mark.parametrize(
    'path',
    TRAINING_CONFIGS,
    ids=[osp.relpath(p, REPO_ROOT) for p in TRAINING_CONFIGS])
def test_init_weights_loads_every_checkpoint_of_the_config(path, tmp_path):
    """Every checkpoint a config names (``teacher_ckpt``, ``Pretrained``
    init_cfgs) is replaced by one generated as the config that writes it
    would save it; the model is built and ``init_weights`` run, as the
    Runner does, and each module then holds exactly those weights (mmengine
    loads ``Pretrained`` non-strictly: a wrong prefix would load nothing)."""
    cfg = parsed_config(path)
    model_cfg = cfg.model
    # 2 blocks a ViT, in the model and in the checkpoints written for it
    shallow_vits(model_cfg, deeper_than=2)
    if 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    expected = {}
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmpretrain')):
        for index, (attributes,
                    module_cfg) in enumerate(pretrained_modules(model_cfg)):
            init_cfg = module_cfg.init_cfg
            prefix = init_cfg.get('prefix', '')
            weights = checkpoint_weights(
                init_cfg.checkpoint, lambda: MMPRETRAIN_MODELS.build(
                    dict(copy.deepcopy(module_cfg), init_cfg=None)), prefix)
            init_cfg.checkpoint = str(tmp_path / f'pretrained_{index}.pth')
            torch.save(dict(state_dict=weights), init_cfg.checkpoint)
            expected[attributes] = under(weights, prefix)
        if model_cfg.get('teacher_ckpt'):
            weights = checkpoint_weights(
                model_cfg.teacher_ckpt,
                lambda: MODELS.build(copy.deepcopy(model_cfg.teacher)))
            model_cfg.teacher_ckpt = str(tmp_path / 'teacher.pth')
            torch.save(dict(state_dict=weights), model_cfg.teacher_ckpt)
            expected[('teacher', )] = under(
                weights,
                model_cfg.get('teacher_ckpt_prefix') or '')
        model = MODELS.build(model_cfg)
        model.init_weights()
    for attributes, weights in expected.items():
        module = model
        for name in attributes:
            module = getattr(module, name)
        loaded = module.state_dict()
        assert set(loaded) == set(weights), attributes
        for key, value in weights.items():
            # loading copies: exactly the checkpoint's values
            assert torch.equal(loaded[key], value), \
                f'{".".join(attributes)}.{key}'


MMPRETRAIN_MIM = osp.join(osp.dirname(mmpretrain.__file__), '.mim')
URL_CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'imagenet')


@functools.lru_cache(maxsize=None)
def hosted_weights() -> Dict[str, dict]:
    """mmpretrain's installed metafile entries, by their weights' URL."""
    entries = {}
    for path in glob.glob(
            osp.join(MMPRETRAIN_MIM, 'configs', '*', 'metafile.yml')):
        with open(path) as file:
            for entry in yaml.safe_load(file).get('Models') or []:
                if entry.get('Weights'):
                    entries[entry['Weights']] = entry
    return entries


def downloaded(model_cfg) -> List[tuple]:
    """``(url, module config)`` of every checkpoint a model config takes by
    URL: its teacher's and its ``Pretrained`` inits'."""
    found = [(module.init_cfg.checkpoint, module)
             for _, module in pretrained_modules(model_cfg)
             if '://' in module.init_cfg.checkpoint]
    if '://' in str(model_cfg.get('teacher_ckpt')):
        found.append((model_cfg.teacher_ckpt, model_cfg.teacher))
    return found


def _architecture(backbone) -> tuple:
    arch = backbone.get('arch', 'base')
    if isinstance(arch, str):
        arch = VisionTransformer.arch_zoo[arch]
    return (dict(arch), backbone.get('patch_size'))


def test_weights_by_url_are_mmpretrains_hosted_ones_for_their_model():
    """Every URL in our configs is the weights of an entry of mmpretrain's
    installed metafiles, for the architecture our config builds (no
    network: the metafiles and configs are the installed ones)."""
    outside = [
        path for path in TRAINING_CONFIGS
        if not path.startswith(URL_CONFIG_DIR) and '://' in open(path).read()
    ]
    assert outside == []
    checked = 0
    for path in TRAINING_CONFIGS:
        if not path.startswith(URL_CONFIG_DIR):
            continue
        for url, module in downloaded(parsed_config(path).model):
            entry = hosted_weights().get(url)
            assert entry, f'{path}: {url} is in no mmpretrain metafile'
            if 'cfg_path' in module:
                assert module.cfg_path == \
                    f'mmpretrain::{entry["Config"][len("configs/"):]}', path
            else:
                theirs = parsed_config(
                    osp.join(MMPRETRAIN_MIM, entry['Config'])).model.backbone
                assert _architecture(module) == _architecture(theirs), path
            checked += 1
    # the ResNet-50 teacher of 3 configs, the MAE ViT-B of 4, the ViT-L of 1
    assert checked >= 8


def local_teacher_checkpoints(path: str) -> List[str]:
    """Every ``teacher_ckpt`` a config file sets to a local path (read from
    its source: the value it writes, not one it inherits)."""
    with open(path) as file:
        tree = ast.parse(file.read())
    values = [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == 'teacher_ckpt'
    ] + [
        node.value
        for node in ast.walk(tree) if isinstance(node, ast.Assign) and any(
            getattr(target, 'id', None) == 'teacher_ckpt'
            for target in node.targets)
    ]
    return [
        value.value for value in values
        if isinstance(value, ast.Constant) and '://' not in value.value
    ]


def test_every_local_teacher_has_its_command_in_the_folders_readme():
    """Where no hosted weights exist, the folder's README names the command
    that trains the teacher (the config whose default work dir the
    checkpoint is in) and the path the config expects."""
    missing, checked = [], 0
    for path in TRAINING_CONFIGS:
        for checkpoint in local_teacher_checkpoints(path):
            with open(osp.join(osp.dirname(path), 'README.md')) as file:
                readme = file.read()
            teacher = checkpoint.split('/')[1]
            command = re.search(
                r'tools/(dist_)?train\.(sh|py) \S*\b' + re.escape(teacher) +
                r'\.py\b', readme)
            if checkpoint not in readme or not command:
                missing.append((osp.relpath(path, REPO_ROOT), checkpoint))
            checked += 1
    assert missing == []
    # CIFAR-100 distillation (4 folders), CIFAR-10, few-shot, noisy labels
    # and strong-to-strong
    assert checked >= 28
