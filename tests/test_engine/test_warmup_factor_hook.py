# Copyright (c) mmw2s contributors. All rights reserved.
from types import SimpleNamespace

import pytest
from mmengine.runner import EpochBasedTrainLoop

import mmw2s  # noqa: F401
from mmw2s.engine.hooks import WarmupFactorHook


@pytest.mark.parametrize('ratio,max_epochs,expected', [
    (0.3, 10, [0, 1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1, 1]),
    (0.25, 10, [0, 0.4, 1, 1]),
    (0.3, 240, {
        0: 0,
        36: 0.5,
        71: 71 / 72,
        72: 1,
        239: 1
    }),
    (0.0, 5, [1, 1]),
])
def test_epoch_schedule(ratio, max_epochs, expected):
    hook = WarmupFactorHook(schedule='epoch', ratio=ratio)
    items = expected.items() if isinstance(expected,
                                           dict) else enumerate(expected)
    for epoch, factor in items:
        assert hook.epoch_factor(epoch, max_epochs) == pytest.approx(factor)


def test_epoch_schedule_counting_from_one():
    """Meta-Baseline's trainer numbers epochs from 1: over 20 epochs the
    factor is 1/5 ... 4/5 in its epochs 1-4 (the runner's 0-3), 1 after."""
    hook = WarmupFactorHook(schedule='epoch', ratio=0.25, first_epoch=1)
    factors = [hook.epoch_factor(epoch, 20) for epoch in range(6)]
    assert factors == pytest.approx([0.2, 0.4, 0.6, 0.8, 1, 1])


def test_iter_schedule():
    hook = WarmupFactorHook(schedule='iter', ratio=0.2)
    assert hook.iter_factor(0, 100) == 0
    assert hook.iter_factor(10, 100) == pytest.approx(0.5)
    assert hook.iter_factor(20, 100) == 1
    assert hook.iter_factor(99, 100) == 1


@pytest.mark.parametrize('kwargs,message', [
    (dict(schedule='cosine'), 'schedule must be one of'),
    (dict(ratio=1.5), r'ratio must be in \[0, 1\], got 1.5'),
    (dict(schedule='constant', value=-1), 'value must be in'),
    (dict(first_epoch=-1), r'first_epoch must be an integer >= 0 .*got -1'),
    (dict(first_epoch=0.5), r'first_epoch must be an integer .*got 0.5'),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WarmupFactorHook(**kwargs)


class _Loss:
    warmup_factor = None


def _runner(max_epochs, iters_per_epoch, epoch=0, iteration=0):
    loss = _Loss()
    model = SimpleNamespace(
        distiller=SimpleNamespace(distill_losses=dict(loss_w2s=loss)))
    return SimpleNamespace(
        model=model,
        train_loop=EpochBasedTrainLoop.__new__(EpochBasedTrainLoop),
        max_epochs=max_epochs,
        max_iters=max_epochs * iters_per_epoch,
        epoch=epoch,
        iter=iteration), loss


def _train(hook, runner, loss, iters_per_epoch):
    """The factors a loss trains with, iteration by iteration, from the
    runner's epoch and iteration on (as a run or a resumed run calls the
    hook)."""
    factors = []
    hook.before_train(runner)
    for runner.epoch in range(runner.epoch, runner.max_epochs):
        hook.before_train_epoch(runner)
        for _ in range(iters_per_epoch - runner.iter % iters_per_epoch):
            hook.before_train_iter(runner, 0)
            factors.append(loss.warmup_factor)
            runner.iter += 1
    return factors


@pytest.mark.parametrize('schedule,expected', [
    ('iter', [i / 6 for i in range(6)] + [1] * 6),
    ('epoch', [0] * 3 + [0.5] * 3 + [1] * 6),
    ('constant', [0.7] * 12),
])
def test_schedules_set_the_factor_and_resume_where_they_were(
        schedule, expected):
    hook = WarmupFactorHook(schedule=schedule, ratio=0.5, value=0.7)
    runner, loss = _runner(max_epochs=4, iters_per_epoch=3)
    assert _train(hook, runner, loss, 3) == pytest.approx(expected)
    # resumed at the start of epoch 2 (iteration 6) by a fresh hook
    runner, loss = _runner(max_epochs=4, iters_per_epoch=3, epoch=2,
                           iteration=6)
    resumed = _train(
        WarmupFactorHook(schedule=schedule, ratio=0.5, value=0.7), runner,
        loss, 3)
    assert resumed == pytest.approx(expected[6:])


def test_an_epoch_ramp_shorter_than_an_epoch_is_refused():
    runner, _ = _runner(max_epochs=3, iters_per_epoch=3)
    with pytest.raises(ValueError, match='ramps over less than one epoch'):
        WarmupFactorHook(schedule='epoch', ratio=0.3).before_train(runner)
