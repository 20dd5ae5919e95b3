# Copyright (c) mmw2s contributors. All rights reserved.
"""Runner configs of the pipeline's stages, built from a pipeline config
such as ``configs/pipeline/w2s_fashion-mnist.py``.

A *training stage* trains one model of ``plan.models`` on a part of the
training images; its checkpoint is then tested apart. Its fields:

- ``model`` (str): a key of ``plan.models``;
- ``train`` (str): ``'train'`` (all training images but the validation
  part), ``'A'`` or ``'B'`` (its halves); ``samples`` (a count, or a
  fraction of the part; optional) keeps at most that many of them;
  ``epochs`` (int), raised where needed to reach ``min_iters`` iterations
  (the stage's, else the study's), so that small data still gets a fair
  number of steps;
- ``init`` (optional): ``'pretrain'`` starts the backbone from the study's
  self-supervised pre-training; ``dict(checkpoint=FILE, prefix='backbone.')``
  starts the backbone from the keys under ``prefix`` of a checkpoint file
  (an MAE or DINO checkpoint), ``dict(checkpoint=FILE, ignore=('head.',))``
  the whole classifier (a fine-tuned one; the ignored modules may differ).
  Weights that do not load (keys missing, unexpected, or of another shape,
  outside ``ignore``) stop the run;
- ``noise`` (dict, optional): arguments of ``NoisyLabelDataset``;
- ``teacher`` (str, optional): the stage whose model supervises this one,
  with ``loss`` (a distillation loss) and ``warmup`` (``WarmupFactorHook``);
  ``ground_truth`` (bool) adds the labels' cross-entropy (default True);
- ``classes`` (list[int], optional): train on these classes only, their
  labels renumbered in this order (``ClassSubsetDataset``); the model's
  ``num_classes`` follows, and its ``test.classes`` must be the same unless
  its test uses features;
- ``keep_checkpoints`` (bool, optional): the stage may be tested after
  every epoch: its runs of the seeds of ``EvalSpec.each_epoch`` keep every
  epoch's checkpoint (the others only their last), and are tested after
  each epoch when tested on the test split;
- ``test`` (dict, optional): how the stage is tested instead of top-1
  accuracy on every class: ``classes`` (list[int]) keeps these classes of
  the evaluation split, ``evaluator`` (dict) replaces ``Accuracy``, and
  ``features=True`` makes the model put its pooled features in its
  predictions (``FewShotClassifier``), as ``FewShotAccuracy`` needs.

A setting's ``defaults`` fill the fields a stage does not set; a field a
stage sets replaces the default whole (a stage's ``loss`` is never merged
with the default one).
"""
import copy
from typing import Optional

from mmengine.config import Config, ConfigDict

from .data import part_cfg, split_cfg

TEST_BATCH = 256


def _runtime(work_dir: str,
             name: str,
             seed: int,
             epochs: int,
             warmup_epochs: int = 0,
             keep_checkpoints: bool = False) -> dict:
    """Schedule, hooks and environment shared by every stage; the last
    checkpoint is kept, or every epoch's with ``keep_checkpoints``."""
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
                type='CheckpointHook',
                interval=1,
                max_keep_ckpts=-1 if keep_checkpoints else 1),
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


def _with_num_classes(model: dict, count: int) -> dict:
    """``model`` with the ``num_classes`` of its backbone and head (those
    that have one) set to ``count``."""
    for part in ('backbone', 'head'):
        if 'num_classes' in model.get(part, {}):
            model[part]['num_classes'] = count
    return model


def num_classes(stage: ConfigDict) -> int:
    """Outputs of a stage's classifier: its classes, else the data's
    (``stage.data_classes``, set by :class:`mmw2s.pipeline.graph.Study`)."""
    return len(stage.classes) if stage.get('classes') else \
        stage.data_classes


def classifier_cfg(plan: Config, stage: ConfigDict) -> dict:
    """The classifier a stage trains: its model's, with one output per
    class it learns, a ``FewShotClassifier`` when its test needs
    features."""
    model = _with_num_classes(
        copy.deepcopy(plan.models[stage.model].model), num_classes(stage))
    if stage.get('test', {}).get('features'):
        model['type'] = 'FewShotClassifier'
    return model


def _preprocessor(plan: Config, stage: ConfigDict) -> dict:
    """The data preprocessor, with the stage's number of classes."""
    return dict(
        copy.deepcopy(plan.data_preprocessor), num_classes=num_classes(stage))


def _loader(batch_size: int, dataset: dict, shuffle: bool) -> dict:
    return dict(
        batch_size=batch_size,
        num_workers=0,
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=shuffle))


def pretrain_cfg(plan: Config, work_dir: str) -> Config:
    """MAE (or any mmpretrain self-supervised algorithm) on the unlabelled
    training images (``data.unlabelled``)."""
    spec = plan.pretrain
    cfg = _runtime(work_dir, 'pretrain', spec.seed, spec.epochs,
                   spec.get('warmup_epochs', 0))
    model = copy.deepcopy(spec.model)
    model['data_preprocessor'] = copy.deepcopy(spec.data_preprocessor)
    loader = _loader(
        spec.batch_size,
        split_cfg(plan, 'unlabelled', spec.pipeline),
        shuffle=True)
    # the self-supervised data preprocessor takes stacked tensors
    loader['collate_fn'] = dict(type='default_collate')
    cfg.update(
        model=model,
        optim_wrapper=copy.deepcopy(spec.optim_wrapper),
        train_dataloader=loader)
    return Config(cfg)


def init_target(init: dict) -> str:
    """Which module an ``init=dict(checkpoint=...)`` loads: the backbone
    when it names a ``prefix`` (the backbone's keys in a checkpoint of a
    whole model, e.g. ``'backbone.'``), else the whole classifier."""
    return 'backbone' if init.get('prefix') else 'classifier'


def _with_init(student: dict, stage: ConfigDict,
               pretrained: Optional[str]) -> dict:
    """The student with its weights' origin: the study's pre-training, or
    a checkpoint file (loaded by mmengine's ``Pretrained``; the run checks
    the keys before it trains, see ``mmw2s.pipeline.jobs``)."""
    init = stage.get('init')
    if init == 'pretrain':
        student['backbone']['init_cfg'] = dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')
    elif init:
        loaded = dict(type='Pretrained', checkpoint=init['checkpoint'])
        if init_target(init) == 'backbone':
            student['backbone']['init_cfg'] = dict(
                loaded, prefix=init['prefix'])
        else:
            student['init_cfg'] = loaded
    return student


def training_cfg(plan: Config,
                 stage: ConfigDict,
                 seed: int,
                 work_dir: str,
                 val_samples: int,
                 pretrained: Optional[str] = None,
                 teacher_ckpt: Optional[str] = None,
                 teacher_stage: Optional[ConfigDict] = None,
                 keep_checkpoints: bool = False) -> Config:
    """The runner config of a training stage (see the module's doc), with
    no test: the study tests its checkpoint apart (:func:`test_parts`).

    Args:
        plan (Config): The study config.
        stage (ConfigDict): The stage, as resolved by
            :func:`mmw2s.pipeline.plan.resolve_stage`, with ``epochs`` and
            ``samples`` resolved against the data.
        seed (int): Seed of the run and of the data split.
        work_dir (str): The run's directory.
        val_samples (int): Size of the validation part.
        pretrained (str, optional): Backbone checkpoint when ``stage.init``
            is ``'pretrain'``.
        teacher_ckpt (str, optional): The teacher stage's checkpoint.
        teacher_stage (ConfigDict, optional): The teacher stage.
        keep_checkpoints (bool): Keep every epoch's checkpoint, not only
            the last. Defaults to False.

    Returns:
        Config: A runner config.
    """
    recipe = plan.models[stage.model]
    cfg = _runtime(work_dir, stage.name, seed, stage.epochs,
                   stage.get('warmup_epochs', 0), keep_checkpoints)
    cfg.update(
        model=_model_cfg(plan, stage, pretrained, teacher_ckpt, teacher_stage),
        optim_wrapper=copy.deepcopy(recipe.optim_wrapper),
        train_dataloader=_loader(
            recipe.batch_size, _train_set_cfg(plan, stage, seed, val_samples),
            True))
    if stage.get('warmup'):
        cfg['custom_hooks'].append(
            dict(type='mmrazor.WarmupFactorHook', **stage.warmup))
    return Config(cfg)


def eval_set_cfg(plan: Config, split: str, seed: int, val_samples: int,
                 samples: Optional[int]) -> dict:
    """The dataset a stage is tested on: the validation part of the
    training split (``split='val'``), or the test split (a seeded draw of
    ``samples`` when given)."""
    if split == 'val':
        return part_cfg(
            split_cfg(plan, 'train', plan.test_pipeline), 'val', seed,
            val_samples)
    return part_cfg(
        split_cfg(plan, 'test', plan.test_pipeline), None, seed, 0, samples)


def test_parts(plan: Config, stage: ConfigDict, eval_set: dict) -> dict:
    """What the runner of a stage needs to test it on ``eval_set`` (see
    :func:`eval_set_cfg`): its test loader, evaluator and loop."""
    test = stage.get('test', {})
    return dict(
        test_dataloader=_loader(TEST_BATCH,
                                _with_classes(eval_set, test.get('classes')),
                                False),
        test_evaluator=copy.deepcopy(
            test.get('evaluator', dict(type='Accuracy', topk=(1, )))),
        test_cfg=dict())


def _with_classes(dataset: dict, classes: Optional[list]) -> dict:
    """``dataset`` restricted to ``classes`` (``ClassSubsetDataset``), or as
    it is when ``classes`` is None."""
    if not classes:
        return dataset
    return dict(
        type='ClassSubsetDataset', dataset=dataset, classes=list(classes))


def _train_set_cfg(plan: Config, stage: ConfigDict, seed: int,
                   val_samples: int) -> dict:
    """The stage's training data: its part of the training images, its
    classes, its label noise."""
    train_set = _with_classes(
        part_cfg(
            split_cfg(plan, 'train', plan.train_pipeline), stage.train, seed,
            val_samples, stage.get('samples')), stage.get('classes'))
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
    student = _with_init(classifier_cfg(plan, stage), stage, pretrained)
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
