# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
from mmrazor.registry import MODELS
from model_helpers import batch, cnn, w2s_model

import mmw2s  # noqa: F401
from mmw2s.models.distillers import class_logits
from mmw2s.models.distillers.weak_to_strong_distiller import (LABELS_RECORDER,
                                                              LOGITS_RECORDER)


def test_class_logits_sums_tuple_outputs():
    first, second = torch.randn(3, 4), torch.randn(3, 4)
    assert class_logits(first) is first
    torch.testing.assert_close(class_logits((first, second)), first + second)
    with pytest.raises(TypeError, match='Tensor or a tuple of Tensors'):
        class_logits({'logits': first})


def test_logit_losses_are_mapped_by_their_argument_names():
    distiller = MODELS.build(
        dict(
            type='WeakToStrongDistiller',
            distill_losses=dict(
                loss_w2s=dict(type='AdaptConfLoss'),
                loss_kl=dict(type='KLDivergence'),
                loss_dist=dict(type='DISTLoss'),
                loss_wsld=dict(type='WSLD'),
                loss_dkd=dict(type='DKDLoss'))))
    mappings = distiller.loss_forward_mappings
    assert mappings['loss_w2s']['preds_T'] == dict(
        recorder=LOGITS_RECORDER, from_student=False)
    assert mappings['loss_kl']['preds_S']['from_student'] is True
    assert set(mappings['loss_dist']) == {'logits_S', 'logits_T'}
    assert set(mappings['loss_wsld']) == {'student', 'teacher', 'gt_labels'}
    assert mappings['loss_dkd']['gt_labels']['recorder'] == LABELS_RECORDER
    assert distiller.uses_ground_truth


def test_user_mappings_and_recorders_are_kept():
    distiller = MODELS.build(
        dict(
            type='WeakToStrongDistiller',
            student_recorders=dict(
                fc=dict(type='ModuleOutputs', source='head.fc')),
            teacher_recorders=dict(
                fc=dict(type='ModuleOutputs', source='head.fc')),
            distill_losses=dict(loss_kl=dict(type='KLDivergence')),
            loss_forward_mappings=dict(
                loss_kl=dict(
                    preds_S=dict(from_student=True, recorder='fc'),
                    preds_T=dict(from_student=False, recorder='fc')))))
    assert distiller.loss_forward_mappings['loss_kl']['preds_S'][
        'recorder'] == 'fc'
    assert not distiller.uses_ground_truth


def test_feature_loss_without_mapping_is_refused():
    with pytest.raises(ValueError, match='loss_forward_mappings.loss_feat'):
        MODELS.build(
            dict(
                type='WeakToStrongDistiller',
                distill_losses=dict(loss_feat=dict(type='L2Loss'))))


def test_feature_loss_with_connector_combines_with_adaptconf():
    torch.manual_seed(0)
    cfg = w2s_model(cnn(8), cnn(4))
    cfg['distiller'] = dict(
        type='WeakToStrongDistiller',
        student_recorders=dict(
            feat=dict(type='ModuleOutputs', source='neck.gap')),
        teacher_recorders=dict(
            feat=dict(type='ModuleOutputs', source='neck.gap')),
        connectors=dict(
            student_feat=dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=32,
                kernel_size=1)),
        distill_losses=dict(
            loss_w2s=dict(type='AdaptConfLoss'),
            loss_feat=dict(type='L2Loss', loss_weight=0.5)),
        loss_forward_mappings=dict(
            loss_feat=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='feat',
                    connector='student_feat'),
                t_feature=dict(from_student=False, recorder='feat'))))
    algorithm = MODELS.build(cfg)
    inputs, samples = batch()
    losses = algorithm.loss(inputs, samples)
    assert losses['distill.loss_feat'].requires_grad
    assert losses['distill.loss_w2s'].requires_grad


def test_agreement_is_logged_for_losses_that_do_not_record_it():
    # KLDivergence keeps no statistics: the distiller compares the argmaxes
    torch.manual_seed(4)  # a pair that agrees on some samples
    algorithm = MODELS.build(
        w2s_model(
            cnn(8), cnn(4), losses=dict(loss_kl=dict(type='KLDivergence'))))
    algorithm.train()
    inputs, samples = batch(num=7)  # odd: agreement and 1 - it differ
    losses = algorithm.loss(inputs, samples)
    student = algorithm.distiller.get_logits(True).argmax(1)
    teacher = algorithm.distiller.get_logits(False).argmax(1)
    expected = (student == teacher).float().mean()
    assert 0 < expected < 1
    torch.testing.assert_close(losses['distill.agreement'], expected)
