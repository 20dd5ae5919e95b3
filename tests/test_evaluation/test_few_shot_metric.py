# Copyright (c) mmw2s contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

import mmw2s  # noqa: F401
from mmw2s.datasets.episodic_sampler import classes_for_episodes, draw_episode
from mmw2s.evaluation import FewShotAccuracy, episode_accuracies, mean_and_ci95
from mmw2s.models import EpisodeCentroidHead


def clustered(num_classes=10, per_class=30, dim=16, spread=0.05, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_classes, dim))
    labels = np.repeat(np.arange(num_classes), per_class)
    features = centres[labels] + spread * rng.normal(size=(len(labels), dim))
    return features, labels


def test_well_separated_features_score_about_100_percent():
    features, labels = clustered()
    accuracies = episode_accuracies(features, labels, 5, 1, 15, 100, 0)
    assert accuracies.mean() > 0.99


def test_random_features_score_about_one_over_n():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 30)
    features = rng.normal(size=(len(labels), 16))
    accuracies = episode_accuracies(features, labels, 5, 5, 15, 600, 0)
    assert accuracies.mean() == pytest.approx(1 / 5, abs=0.03)


def test_confidence_interval_formula_and_seeding():
    features, labels = clustered(spread=2.0)
    first = episode_accuracies(features, labels, 5, 1, 5, 50, seed=3)
    again = episode_accuracies(features, labels, 5, 1, 5, 50, seed=3)
    assert np.array_equal(first, again)
    mean, ci95 = mean_and_ci95(first)
    assert mean == pytest.approx(first.mean())
    expected = 1.96 * np.sqrt(
        ((first - first.mean())**2).sum() / (len(first) - 1)) / np.sqrt(50)
    assert ci95 == pytest.approx(expected)


def test_too_few_samples_is_an_error():
    features, labels = clustered(num_classes=4, per_class=30)
    with pytest.raises(ValueError, match='5-way 1-shot .* need 5 classes'):
        episode_accuracies(features, labels, 5, 1, 15, 10, 0)


def test_metric_reports_each_shot_with_its_interval():
    features, labels = clustered()
    metric = FewShotAccuracy(num_shots=(1, 5), num_episodes=50)
    samples = []
    for feature, label in zip(features, labels):
        sample = DataSample().set_gt_label(int(label))
        sample.set_field(torch.tensor(feature), 'pred_feat')
        samples.append(sample.to_dict())
    metric.process(None, samples)
    results = metric.compute_metrics(metric.results)
    assert set(results) == {
        '5way-1shot', '5way-1shot_ci95', '5way-5shot', '5way-5shot_ci95'
    }
    assert results['5way-5shot'] > 99.0
    assert 0 <= results['5way-1shot_ci95'] < 1.0


def test_metric_needs_features():
    metric = FewShotAccuracy()
    with pytest.raises(KeyError, match='pred_feat'):
        metric.process(None, [DataSample().set_gt_label(0).to_dict()])


def test_few_shot_config_predicts_features_for_the_metric():
    import os.path as osp

    from conftest import REPO_ROOT
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'few_shot',
                 'adaptconf_resnet12-bottle_resnet36-bottle_4xb32-100e_'
                 'mini-imagenet.py'))
    cfg.model.pop('teacher_ckpt')  # not trained here: a random teacher
    cfg.model.allow_random_teacher = True
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.eval()
    samples = [DataSample().set_gt_label(i % 5) for i in range(10)]
    batch = dict(
        inputs=[
            torch.randint(0, 255, (3, 80, 80), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)
    predictions = model.val_step(batch)
    assert predictions[0].pred_feat.shape == (512, )
    metric = FewShotAccuracy(num_shots=(1, ), num_queries=1, num_episodes=5)
    metric.process(batch, [p.to_dict() for p in predictions])
    results = metric.compute_metrics(metric.results)
    assert 0.0 <= results['5way-1shot'] <= 100.0


def test_centroids_are_meta_baselines_as_in_the_head():
    """The metric classifies each episode exactly as EpisodeCentroidHead
    (Meta-Baseline: normalise the mean of the raw support features), on
    features whose norms differ by four orders of magnitude, where
    averaging normalised features would classify otherwise."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(6), 12)
    features = rng.normal(size=(len(labels), 4)) * np.exp(
        rng.uniform(-4.6, 4.6, size=(len(labels), 1)))
    ways, shots, queries, episodes = 5, 5, 3, 40
    measured = episode_accuracies(features, labels, ways, shots, queries,
                                  episodes, seed=7)
    head = EpisodeCentroidHead(ways, shots, queries)
    draws = np.random.default_rng(7)
    by_class = classes_for_episodes(labels, ways, shots + queries, 'test')
    truth = np.repeat(np.arange(ways), queries)
    expected, averaged_normalised = [], []
    for _ in range(episodes):
        episode = features[draw_episode(draws, by_class, ways,
                                        shots + queries)]
        logits = head((torch.as_tensor(episode.reshape(-1, 4)), ))
        expected.append((logits.argmax(1).numpy() == truth).mean())
        unit = episode / np.linalg.norm(episode, axis=-1, keepdims=True)
        other = unit[:, shots:].reshape(-1, 4) @ unit[:, :shots].mean(1).T
        averaged_normalised.append((other.argmax(1) == truth).mean())
    np.testing.assert_allclose(measured, expected)
    assert not np.allclose(averaged_normalised, expected)
