# Copyright (c) mmw2s contributors. All rights reserved.
"""Configs of the stages of the weak-to-strong protocol (Burns et al.,
2023), built from a pipeline config such as
``configs/pipeline/w2s_lenet5_resnet18-c16_fashion-mnist.py``."""
import copy
import math
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config

WEAK_LOGITS_FILE = 'weak_logits.pth'


def _dataset(plan: Config, split: str, subset: Optional[str], seed: int,
             full: bool) -> dict:
    data = plan.data
    samples = None
    if subset is not None and not full:
        samples = data.weak_samples if subset == 'A' else data.strong_samples
    return dict(
        type=data.type,
        data_root=data.data_root,
        split=split,
        subset=subset,
        subset_seed=seed,
        max_samples=samples,
        pipeline=copy.deepcopy(plan.image_pipeline))


def num_samples(plan: Config,
                subset: str,
                full: bool,
                split_size: int = 60000) -> int:
    """How many training samples a stage on ``subset`` reads."""
    half = split_size // 2
    if full:
        return half
    return min(
        half,
        plan.data.weak_samples if subset == 'A' else plan.data.strong_samples)


def iterations(plan: Config, subset: str, epochs: int, full: bool) -> int:
    """Training iterations of a stage (for progress and ETA)."""
    return math.ceil(
        num_samples(plan, subset, full) / plan.batch_size) * epochs


def _common(plan: Config, work_dir: str, name: str, seed: int, epochs: int,
            full: bool) -> dict:
    """Everything a training stage shares: schedule, test set, hooks."""
    return dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['mmw2s'], allow_failed_imports=False),
        work_dir=work_dir,
        experiment_name=f'{name}_seed{seed}',
        optim_wrapper=copy.deepcopy(plan.optim_wrapper),
        param_scheduler=[
            dict(
                type='CosineAnnealingLR',
                by_epoch=True,
                begin=0,
                end=epochs,
                T_max=epochs,
                convert_to_iter_based=True)
        ],
        train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=1),
        test_dataloader=dict(
            batch_size=256,
            num_workers=0,
            dataset=_dataset(plan, 'test', None, seed, full),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        test_evaluator=dict(type='Accuracy', topk=(1, )),
        test_cfg=dict(),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=20),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(
                type='CheckpointHook', interval=1, max_keep_ckpts=1),
            sampler_seed=dict(type='DistSamplerSeedHook')),
        env_cfg=dict(
            cudnn_benchmark=False,
            mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
            dist_cfg=dict(backend='nccl')),
        vis_backends=[dict(type='LocalVisBackend')],
        visualizer=dict(
            type='UniversalVisualizer',
            vis_backends=[dict(type='LocalVisBackend')]),
        custom_hooks=[dict(type='mmrazor.NonFiniteCheckHook')],
        log_level='INFO',
        randomness=dict(seed=seed),
        resume=True,
        load_from=None)


def _train_loader(plan: Config, dataset: dict) -> dict:
    return dict(
        batch_size=plan.batch_size,
        num_workers=0,
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=True))


def classifier_stage(plan: Config, model_key: str, subset: str, seed: int,
                     epochs: int, work_dir: str, full: bool) -> Config:
    """Train ``plan[model_key]`` on ``subset`` with ground truth.

    Args:
        plan (Config): The pipeline config.
        model_key (str): ``'weak_model'`` or ``'strong_model'``.
        subset (str): ``'A'`` or ``'B'``.
        seed (int): Seed of the run and of the split.
        epochs (int): Training epochs.
        work_dir (str): The stage's directory.
        full (bool): Use the whole halves.

    Returns:
        Config: A runner config.
    """
    cfg = _common(plan, work_dir, model_key, seed, epochs, full)
    model = copy.deepcopy(plan[model_key])
    model['data_preprocessor'] = copy.deepcopy(plan.data_preprocessor)
    cfg.update(
        model=model,
        train_dataloader=_train_loader(
            plan, _dataset(plan, 'train', subset, seed, full)))
    return Config(cfg)


def student_stage(plan: Config,
                  method: Dict,
                  seed: int,
                  epochs: int,
                  work_dir: str,
                  weak_logits_file: str,
                  full: bool,
                  ground_truth: bool = False) -> Config:
    """Train the strong model on half B from offline weak logits.

    Args:
        plan (Config): The pipeline config.
        method (dict): ``loss`` config and optional ``warmup`` of
            ``WarmupFactorHook``.
        seed (int): Seed of the run and of the split.
        epochs (int): Training epochs.
        work_dir (str): The stage's directory.
        weak_logits_file (str): Weak logits of half B.
        full (bool): Use the whole halves.
        ground_truth (bool): Also train on the ground truth (the paper's
            setting). Defaults to False (weak supervision only).

    Returns:
        Config: A runner config.
    """
    cfg = _common(plan, work_dir, 'student', seed, epochs, full)
    dataset = _dataset(plan, 'train', 'B', seed, full)
    dataset['pipeline'][-1] = dict(
        dataset['pipeline'][-1], algorithm_keys=['weak_logits'])
    loss_name = 'loss_kd' if method['loss']['type'] == 'KLDivergence' \
        else 'loss_w2s'
    cfg.update(
        model=dict(
            _scope_='mmrazor',
            type='WeakToStrongDistill',
            data_preprocessor=dict(
                copy.deepcopy(plan.data_preprocessor),
                type='mmpretrain.ClsDataPreprocessor'),
            architecture=dict(
                copy.deepcopy(plan.strong_model), _scope_='mmpretrain'),
            teacher=None,
            calculate_student_loss=ground_truth,
            distiller=dict(
                type='WeakToStrongDistiller',
                distill_losses={loss_name: copy.deepcopy(method['loss'])})),
        train_dataloader=_train_loader(
            plan,
            dict(
                type='WeakLabelDataset',
                dataset=dataset,
                weak_logits_file=weak_logits_file)))
    if method.get('warmup'):
        cfg['custom_hooks'].append(
            dict(type='mmrazor.WarmupFactorHook', **method['warmup']))
    return Config(cfg)


def weak_labelling_cfg(plan: Config, seed: int, full: bool) -> Config:
    """A config whose ``train_dataloader`` reads half B, for
    :func:`mmw2s.apis.deterministic_dataloader_cfg`."""
    dataset = _dataset(plan, 'train', 'B', seed, full)
    return Config(
        dict(
            train_dataloader=_train_loader(plan, dataset),
            test_dataloader=dict(
                dataset=dict(pipeline=copy.deepcopy(plan.image_pipeline)))))


def stage_dir(work_dir: str, seed: int, stage: str) -> str:
    """Directory of ``stage`` for ``seed``."""
    return osp.join(work_dir, f'seed_{seed}', stage)
