# Copyright (c) mmw2s contributors. All rights reserved.
"""Runner configs of the pipeline's stages, built from a pipeline config
such as ``configs/pipeline/w2s_fashion-mnist.py``.

A *training stage* trains one model of ``plan.models`` on a part of the
training images and is tested once, at its end. Its fields:

- ``model`` (str): a key of ``plan.models``;
- ``train`` (str): ``'train'`` (all training images but the validation
  part), ``'A'`` or ``'B'`` (its halves); ``samples`` (int, optional) keeps
  at most that many of them; ``epochs`` (int);
- ``init`` (str, optional): ``'pretrain'`` starts the backbone from the
  self-supervised pre-training;
- ``noise`` (dict, optional): arguments of ``NoisyLabelDataset``;
- ``teacher`` (str, optional): the stage whose model supervises this one,
  with ``loss`` (a distillation loss) and ``warmup`` (``WarmupFactorHook``);
  ``ground_truth`` (bool) adds the labels' cross-entropy (default True);
- ``classes`` (list[int], optional): train on these classes only, their
  labels renumbered in this order (``ClassSubsetDataset``); the model's
  ``num_classes`` follows;
- ``test`` (dict, optional): how the stage is tested instead of top-1
  accuracy on every class: ``classes`` (list[int]) keeps these classes of
  the evaluation split, ``evaluator`` (dict) replaces ``Accuracy``, and
  ``features=True`` makes the model put its pooled features in its
  predictions (``FewShotClassifier``), as ``FewShotAccuracy`` needs.
"""
import copy
import math
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict

from .plan import EvalSpec

TEST_BATCH = 256


def dataset_cfg(plan: Config,
                part: Optional[str],
                split: str,
                seed: int,
                pipeline: list,
                samples: Optional[int] = None,
                labelled: bool = True) -> dict:
    """An IDX dataset config of ``part`` of ``split`` (see ``IDXDataset``)."""
    data = plan.data
    return dict(
        type=data.type,
        data_root=data.data_root,
        split=split,
        subset=part,
        subset_seed=seed,
        val_samples=data.get('val_samples', 0) if part else 0,
        max_samples=samples,
        labelled=labelled,
        pipeline=copy.deepcopy(pipeline))


def eval_dataset_cfg(plan: Config, evaluation: EvalSpec, seed: int) -> dict:
    """The dataset a stage is tested on: the validation part of the
    training images, or the test split (a seeded draw of ``samples``)."""
    if evaluation.split == 'val':
        return dataset_cfg(plan, 'val', 'train', seed, plan.test_pipeline)
    return dataset_cfg(plan, None, 'test', seed, plan.test_pipeline,
                       evaluation.samples)


def _runtime(work_dir: str,
             name: str,
             seed: int,
             epochs: int,
             warmup_epochs: int = 0) -> dict:
    """Schedule, hooks and environment shared by every stage."""
    schedule = [
        dict(
            type='CosineAnnealingLR',
            by_epoch=True,
            begin=warmup_epochs,
            end=epochs,
            T_max=epochs - warmup_epochs,
            convert_to_iter_based=True)
    ]
    if warmup_epochs:
        schedule.insert(
            0,
            dict(
                type='LinearLR',
                start_factor=1e-3,
                by_epoch=True,
                begin=0,
                end=warmup_epochs,
                convert_to_iter_based=True))
    return dict(
        default_scope='mmpretrain',
        custom_imports=dict(imports=['mmw2s'], allow_failed_imports=False),
        work_dir=work_dir,
        experiment_name=f'{name}_seed{seed}',
        param_scheduler=schedule,
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            # the last iteration of each epoch is logged too, so the curves
            # of short runs have a point an epoch at least
            logger=dict(type='LoggerHook', interval=20, ignore_last=False),
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
        # loss terms averaged over the window like the losses they add up to
        log_processor=dict(
            mean_pattern=r'.*(loss|time|data_time|grad_norm|_term).*'),
        log_level='INFO',
        randomness=dict(seed=seed),
        resume=True,
        load_from=None)


def _with_num_classes(model: dict, num_classes: int) -> dict:
    """``model`` with the ``num_classes`` of its backbone and head (those
    that have one) set to ``num_classes``."""
    for part in ('backbone', 'head'):
        if 'num_classes' in model.get(part, {}):
            model[part]['num_classes'] = num_classes
    return model


def classifier_cfg(plan: Config, stage: ConfigDict) -> dict:
    """The classifier a stage trains: its model's, for the stage's
    classes, a ``FewShotClassifier`` when its test needs features."""
    model = copy.deepcopy(plan.models[stage.model].model)
    if stage.get('classes'):
        _with_num_classes(model, len(stage.classes))
    if stage.get('test', {}).get('features'):
        model['type'] = 'FewShotClassifier'
    return model


def _preprocessor(plan: Config, stage: ConfigDict) -> dict:
    """The data preprocessor, with the stage's number of classes."""
    preprocessor = copy.deepcopy(plan.data_preprocessor)
    if stage.get('classes'):
        preprocessor['num_classes'] = len(stage.classes)
    return preprocessor


def _loader(batch_size: int, dataset: dict, shuffle: bool) -> dict:
    return dict(
        batch_size=batch_size,
        num_workers=0,
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


def pretrain_cfg(plan: Config, work_dir: str) -> Config:
    """MAE (or any mmpretrain self-supervised algorithm) on every training
    image, with the labels file never opened."""
    spec = plan.pretrain
    cfg = _runtime(work_dir, 'pretrain', spec.seed, spec.epochs,
                   spec.get('warmup_epochs', 0))
    model = copy.deepcopy(spec.model)
    model['data_preprocessor'] = copy.deepcopy(spec.data_preprocessor)
    loader = _loader(
        spec.batch_size,
        dataset_cfg(
            plan, None, 'train', spec.seed, spec.pipeline, labelled=False),
        shuffle=True)
    # the self-supervised data preprocessor takes stacked tensors
    loader['collate_fn'] = dict(type='default_collate')
    cfg.update(
        model=model,
        optim_wrapper=copy.deepcopy(spec.optim_wrapper),
        train_dataloader=loader)
    return Config(cfg)


def training_cfg(plan: Config,
                 stage: ConfigDict,
                 seed: int,
                 work_dir: str,
                 evaluation: EvalSpec,
                 pretrained: Optional[str] = None,
                 teacher_ckpt: Optional[str] = None,
                 teacher_stage: Optional[ConfigDict] = None) -> Config:
    """The runner config of a training stage (see the module's doc).

    Args:
        plan (Config): The pipeline config.
        stage (ConfigDict): The stage, as resolved by
            :func:`mmw2s.pipeline.plan.resolve_stage`.
        seed (int): Seed of the run and of the data split.
        work_dir (str): The stage's directory.
        evaluation (EvalSpec): What it is tested on.
        pretrained (str, optional): Backbone checkpoint when ``stage.init``
            is ``'pretrain'``.
        teacher_ckpt (str, optional): The teacher stage's checkpoint.
        teacher_stage (ConfigDict, optional): The teacher stage.

    Returns:
        Config: A runner config.
    """
    recipe = plan.models[stage.model]
    cfg = _runtime(work_dir, stage.name, seed, stage.epochs,
                   stage.get('warmup_epochs', 0))
    test = stage.get('test', {})
    cfg.update(
        model=_model_cfg(plan, stage, pretrained, teacher_ckpt,
                         teacher_stage),
        optim_wrapper=copy.deepcopy(recipe.optim_wrapper),
        train_dataloader=_loader(recipe.batch_size,
                                 _train_set_cfg(plan, stage, seed), True),
        test_dataloader=_loader(
            TEST_BATCH, _with_classes(
                eval_dataset_cfg(plan, evaluation, seed),
                test.get('classes')), False),
        test_evaluator=copy.deepcopy(
            test.get('evaluator', dict(type='Accuracy', topk=(1, )))),
        test_cfg=dict())
    if stage.get('warmup'):
        cfg['custom_hooks'].append(
            dict(type='mmrazor.WarmupFactorHook', **stage.warmup))
    return Config(cfg)


def _with_classes(dataset: dict, classes: Optional[list]) -> dict:
    """``dataset`` restricted to ``classes`` (``ClassSubsetDataset``), or as
    it is when ``classes`` is None."""
    if not classes:
        return dataset
    return dict(
        type='ClassSubsetDataset', dataset=dataset, classes=list(classes))


def _train_set_cfg(plan: Config, stage: ConfigDict, seed: int) -> dict:
    """The stage's training data: its part of the training images, its
    classes, its label noise."""
    train_set = _with_classes(
        dataset_cfg(plan, stage.train, 'train', seed, plan.train_pipeline,
                    stage.get('samples')), stage.get('classes'))
    if stage.get('noise'):
        train_set = dict(
            type='NoisyLabelDataset',
            dataset=train_set,
            seed=seed,
            **stage.noise)
    return train_set


def _model_cfg(plan: Config, stage: ConfigDict, pretrained: Optional[str],
               teacher_ckpt: Optional[str],
               teacher_stage: Optional[ConfigDict]) -> dict:
    """The stage's classifier, or a ``WeakToStrongDistill`` of it under its
    teacher stage's model."""
    student = classifier_cfg(plan, stage)
    if stage.get('init') == 'pretrain':
        student['backbone']['init_cfg'] = dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')
    if not stage.get('teacher'):
        return dict(student, data_preprocessor=_preprocessor(plan, stage))
    return dict(
        _scope_='mmrazor',
        type='WeakToStrongDistill',
        data_preprocessor=dict(
            _preprocessor(plan, stage), type='mmpretrain.ClsDataPreprocessor'),
        architecture=dict(student, _scope_='mmpretrain'),
        teacher=dict(
            classifier_cfg(plan, teacher_stage), _scope_='mmpretrain'),
        teacher_ckpt=teacher_ckpt,
        teacher_ckpt_prefix='architecture.'
        if teacher_stage.get('teacher') else None,
        calculate_student_loss=stage.get('ground_truth', True),
        distiller=dict(
            type='WeakToStrongDistiller',
            distill_losses=dict(loss_w2s=copy.deepcopy(stage.loss))))


def iterations(num_images: int, batch_size: int, epochs: int = 1) -> int:
    """Iterations of ``epochs`` over ``num_images`` (progress and ETA)."""
    return math.ceil(num_images / batch_size) * epochs


def stage_dir(work_dir: str, seed: int, setting: str, name: str,
              key: str) -> str:
    """Directory of a training stage: named by its settings' key, so a
    changed option never reuses it."""
    return osp.join(work_dir, f'seed_{seed}', setting, f'{name}-{key[:10]}')
