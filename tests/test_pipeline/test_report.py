# Copyright (c) mmw2s contributors. All rights reserved.
"""The report's arithmetic: claims, mean ± std, PGR only where defined."""
import numpy as np
import pytest
from mmengine.config import ConfigDict

from mmw2s.pipeline.report import (claim_row, compute_minutes, evaluation_note,
                                   inverted_pairs, mean_std, setting_table)

CLASSES = [str(i) for i in range(10)]


def _results(accuracies):
    """results[seed][stage] from {stage: [accuracy per seed]}."""
    seeds = range(len(next(iter(accuracies.values()))))
    return {
        seed: {
            stage:
            dict(
                accuracy=values[seed],
                train_images=100 + seed,
                test_images=50,
                classes=CLASSES)
            for stage, values in accuracies.items()
        }
        for seed in seeds
    }


def test_mean_std_uses_the_sample_deviation():
    assert mean_std([1.0, 2.0, 3.0]) == '2.00 ± 1.00'
    assert mean_std([4.25]) == '4.25'


def test_claims_pair_runs_of_the_same_seed():
    results = _results(
        dict(adaptconf=[80.0, 81.0, 79.0], finetune=[79.0, 80.5, 79.5]))
    row = claim_row(
        dict(
            claim='AdaptConf > fine-tuning',
            run='adaptconf',
            baseline='finetune'), results)
    assert row[2] == '+1.00, +0.50, -0.50'
    assert row[3] == '2/3'
    assert row[4] == 'holds on 2 of 3 seeds only'
    assert claim_row(
        dict(claim='c', run='adaptconf', baseline='adaptconf', relation='>='),
        results)[4] == 'holds on every seed'
    assert claim_row(
        dict(claim='c', run='finetune', baseline='finetune'),
        results)[4] == 'does not hold'
    with pytest.raises(ValueError, match='relation must be one of'):
        claim_row(
            dict(
                claim='c', run='adaptconf', baseline='finetune',
                relation='>>'), results)


def test_a_claim_between_two_perfect_scores_is_undecided():
    """At 100% on every seed (as mmpretrain's float32 accuracy gives it on
    97 images: 99.99999237), neither '>' nor '>=' is decided, of the runs
    or of their PGR; one seed below full marks decides it again."""
    perfect = float(np.float32(97) * np.float32(100. / 97))
    assert perfect < 100.0
    results = _results(
        dict(
            adaptconf=[100.0, perfect],
            kd=[perfect, 100.0],
            weak=[90.0, 90.0],
            ceiling=[100.0, 100.0]))
    pgr = dict(weak='weak', ceiling='ceiling')
    for relation in ('>', '>='):
        for extra in ({}, dict(pgr=pgr)):
            row = claim_row(
                dict(
                    claim='c',
                    run='adaptconf',
                    baseline='kd',
                    relation=relation,
                    **extra), results)
            assert row[3] == '—'
            assert row[4].startswith(
                'undecided (both score 100% on every seed')
    results[1]['kd']['accuracy'] = 99.5
    assert claim_row(
        dict(claim='c', run='adaptconf', baseline='kd', relation='>='),
        results)[4] == 'holds on every seed'


def test_pgr_and_its_claims():
    pgr = dict(weak='weak', ceiling='ceiling')
    results = _results(
        dict(weak=[70.0, 70.0], ceiling=[80.0, 90.0], kd=[75.0, 72.0]))
    row = claim_row(dict(claim='PGR > 0', run='kd', pgr=pgr), results)
    assert row[1] == 'PGR 0.30 ± 0.28' and row[4] == 'holds on every seed'
    row = claim_row(
        dict(claim='PGR > 0.3', run='kd', pgr=pgr, above=0.3), results)
    assert row[2] == '+0.20, -0.20' and row[3] == '1/2'
    row = claim_row(
        dict(
            claim='PGR >= PGR',
            run='kd',
            baseline='weak',
            pgr=pgr,
            relation='>='), dict(results))
    assert row[1] == 'PGR 0.30 ± 0.28 vs 0.00 ± 0.00'
    assert row[2] == '+0.50, +0.10' and row[4] == 'holds on every seed'
    spec = ConfigDict(
        stages=dict(weak=dict(), ceiling=dict(), kd=dict(title='KD')), pgr=pgr)
    table = '\n'.join(setting_table(spec, results))
    assert '| kd | KD | 100 | 73.50 ± 2.12 | 75.00, 72.00 | 0.30 ± 0.28 |' \
        in table
    assert 'not reported' not in table


def test_no_pgr_when_the_ceiling_is_not_above_the_weak_model():
    pgr = dict(weak='weak', ceiling='ceiling')
    results = _results(
        dict(weak=[86.0, 70.0], ceiling=[58.5, 80.0], kd=[80.0, 75.0]))
    spec = ConfigDict(
        stages=dict(weak=dict(), ceiling=dict(), kd=dict()), pgr=pgr)
    table = '\n'.join(setting_table(spec, results))
    assert '| kd |  | 100 | 77.50 ± 3.54 | 80.00, 75.00 | undefined |' in table
    assert 'PGR is not reported' in table and 'seed(s) [0]' in table
    row = claim_row(dict(claim='PGR > 0', run='kd', pgr=pgr), results)
    assert row[1] == '—' and row[4].startswith('undefined (no PGR')


def test_a_setting_with_its_own_metrics_and_intervals():
    """A few-shot setting reports each of its metrics with the per-seed 95%
    intervals, decides claims on the metric they name (else its first), and
    says which classes it was tested on."""
    one, five = 'few-shot/5way-1shot', 'few-shot/5way-5shot'
    results = {
        seed: {
            stage: {
                one: base + seed,
                f'{one}_ci95': 0.5,
                five: base + 10 - seed,
                f'{five}_ci95': 0.25,
                'train_images': 90,
                'test_images': 40,
                'classes': ['b', 'd']
            }
            for stage, base in (('alone', 50.0), ('adaptconf', 51.0))
        }
        for seed in (0, 1)
    }
    spec = ConfigDict(
        stages=dict(alone=dict(), adaptconf=dict()),
        metrics={
            one: '1-shot (%)',
            five: '5-shot (%)'
        })
    table = '\n'.join(setting_table(spec, results))
    assert (
        '| run | what it is | training images | 1-shot (%) | per seed '
        '(± 95% interval) | 5-shot (%) | per seed (± 95% interval) |') in table
    assert ('| adaptconf |  | 90 | 51.50 ± 0.71 | 51.00 ± 0.50, 52.00 ± 0.50 '
            '| 60.50 ± 0.71 | 61.00 ± 0.25, 60.00 ± 0.25 |') in table
    row = claim_row(
        dict(claim='c', run='adaptconf', baseline='alone'), results, one)
    assert row[1:4] == ['51.50 ± 0.71 vs 50.50 ± 0.71', '+1.00, +1.00', '2/2']
    row = claim_row(
        dict(claim='c', run='alone', baseline='adaptconf', metric=five),
        results, one)
    assert row[2] == '-1.00, -1.00' and row[4] == 'does not hold'
    assert evaluation_note(spec, results, ['a', 'b', 'c', 'd'], {}) == [
        'Its runs are tested on the 2 classes b, d of the evaluation split '
        '(40 images).', ''
    ]
    assert evaluation_note(spec, results, ['b', 'd'], {}) == []
    assert evaluation_note(
        spec, results, ['b', 'd'],
        dict(type='FewShotAccuracy', num_ways=4, num_queries=1)) == [
            'Metric: `FewShotAccuracy(num_ways=4, num_queries=1)`. Chance is '
            '25.0%.', ''
        ]


def test_an_inverted_pair_is_named_with_its_seeds():
    plan = ConfigDict(
        settings=dict(
            kd=dict(pair=dict(weak='weak', strong='scratch')),
            transfer=dict(pair=dict(weak='weak', strong='finetune')),
            other=dict()))
    results = dict(
        kd=_results(dict(weak=[82.0, 81.0], scratch=[80.0, 81.0])),
        transfer=_results(dict(weak=[82.0, 81.0], finetune=[84.0, 85.0])),
        other=_results(dict(weak=[82.0, 81.0])))
    [title, _, line, _] = inverted_pairs(plan, results)
    assert title == '## Inverted pairs'
    assert line.startswith('- **kd: the pair is inverted.** The "strong" '
                           'model alone (scratch: 80.50 ± 0.71) does not beat '
                           'the "weak" one (weak: 81.50 ± 0.71) on seed(s) '
                           '[0, 1].')
    del results['kd']
    assert inverted_pairs(plan, results) == []


def test_shared_runs_count_once_in_the_compute_time():
    shared = dict(key='w', test_key='wt', train_minutes=2.0, test_minutes=0.5)
    results = dict(
        transfer={
            0:
            dict(
                weak=shared,
                kd=dict(
                    key='k',
                    test_key='kt',
                    train_minutes=3.0,
                    test_minutes=0.5))
        },
        kd={0: dict(weak=shared)})
    assert compute_minutes(results) == 6.0
