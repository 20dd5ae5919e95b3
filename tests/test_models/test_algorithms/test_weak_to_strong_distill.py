# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
from mmrazor.registry import MODELS
from model_helpers import HEADS, NUM_CLASSES, batch, cnn, vit, w2s_model

import mmw2s  # noqa: F401
from mmw2s.models.losses import AdaptConfLoss


def logits_of(model, inputs):
    """Class logits of a classifier, with its tuple output summed."""
    output = model(inputs, mode='tensor')
    if isinstance(output, tuple):
        output = sum(output)
    return output


@pytest.mark.parametrize('head_name', sorted(HEADS))
def test_distill_loss_uses_the_class_logits_of_any_head(head_name):
    torch.manual_seed(0)
    student = HEADS[head_name]
    teacher = cnn(4) if head_name != 'LinearClsHead' else vit()
    algorithm = MODELS.build(w2s_model(student, teacher))
    algorithm.train()
    inputs, samples = batch()
    losses = algorithm.loss(inputs, samples)

    # the same train-mode forward (BatchNorm on batch statistics)
    with torch.no_grad():
        student_logits = logits_of(algorithm.student, inputs)
        teacher_logits = logits_of(algorithm.teacher, inputs)
        expected = AdaptConfLoss(threshold=0.5)(student_logits,
                                                teacher_logits)
    torch.testing.assert_close(losses['distill.loss_w2s'], expected)
    torch.testing.assert_close(
        losses['distill.agreement'],
        (student_logits.argmax(1) == teacher_logits.argmax(1)).float().mean())
    labels = torch.cat([sample.gt_label for sample in samples])
    # the teacher's accuracy on the batch, a fraction as the agreement
    torch.testing.assert_close(
        losses['teacher_acc'],
        (teacher_logits.argmax(1) == labels).float().mean())
    assert 'student.loss' in losses
    for key in ('distill.w2s_beta', 'distill.agreement', 'teacher_acc'):
        assert key in losses and 'loss' not in key


def test_a_frozen_student_is_refused():
    with pytest.raises(ValueError, match='student_trainable=False is not '
                       'supported'):
        MODELS.build(w2s_model(cnn(8), cnn(4), student_trainable=False))


def test_teacher_stays_in_eval_mode_with_dropout_and_drop_path():
    torch.manual_seed(0)
    algorithm = MODELS.build(w2s_model(cnn(4), vit(drop=0.5)))
    optimizer = torch.optim.SGD(algorithm.student.parameters(), lr=0.1)
    inputs, samples = batch()
    recorded = []
    for _ in range(3):
        algorithm.train()
        losses = algorithm.loss(inputs, samples)
        recorded.append(algorithm.distiller.get_logits(False).clone())
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()
    assert algorithm.student.training
    assert not any(module.training for module in algorithm.teacher.modules())
    assert not any(p.requires_grad for p in algorithm.teacher.parameters())
    assert all(torch.equal(recorded[0], logits) for logits in recorded[1:])
    assert not torch.equal(recorded[0], torch.zeros_like(recorded[0]))


def test_pure_weak_to_strong_keeps_ground_truth_from_the_student():
    torch.manual_seed(0)
    algorithm = MODELS.build(
        w2s_model(cnn(8), cnn(4), calculate_student_loss=False))
    inputs, samples = batch(labels=False)
    losses = algorithm.loss(inputs, samples)
    assert not any(key.startswith('student.') for key in losses)
    assert 'teacher_acc' not in losses
    assert losses['distill.loss_w2s'].requires_grad


def test_different_numbers_of_classes_are_refused():
    teacher = cnn(4)
    teacher['head'] = dict(
        type='LinearClsHead', num_classes=NUM_CLASSES + 1, in_channels=32)
    with pytest.raises(ValueError, match='num_classes=5 .* num_classes=6'):
        MODELS.build(w2s_model(cnn(8), teacher))


def test_adaptconf_combines_with_dkd_and_both_are_logged():
    torch.manual_seed(0)
    algorithm = MODELS.build(
        w2s_model(
            cnn(8),
            cnn(4),
            losses=dict(
                loss_w2s=dict(type='AdaptConfLoss'),
                loss_dkd=dict(type='DKDLoss', tau=1, beta=0.5))))
    inputs, samples = batch()
    losses = algorithm.loss(inputs, samples)
    assert losses['distill.loss_dkd'].requires_grad
    assert losses['distill.loss_w2s'].requires_grad
    assert torch.isfinite(losses['distill.loss_dkd'])


def test_gt_losses_need_the_student_loss():
    with pytest.raises(ValueError, match='gt_labels'):
        MODELS.build(
            w2s_model(
                cnn(8),
                cnn(4),
                losses=dict(loss_dkd=dict(type='DKDLoss')),
                calculate_student_loss=False))


def test_mixup_batch_reaches_teacher_and_student_alike():
    torch.manual_seed(0)
    cfg = w2s_model(cnn(8), cnn(4))
    cfg['data_preprocessor'] = dict(
        cfg['data_preprocessor'],
        batch_augments=dict(
            augments=[dict(type='mmpretrain.Mixup', alpha=0.8)]))
    algorithm = MODELS.build(cfg)
    inputs, samples = batch()
    data = algorithm.data_preprocessor(
        dict(inputs=list(inputs), data_samples=samples), True)
    seen = {}

    def remember_input(name):

        def hook(module, args):
            seen[name] = args[0].clone()

        return hook

    algorithm.teacher.register_forward_pre_hook(remember_input('teacher'))
    algorithm.student.register_forward_pre_hook(remember_input('student'))
    losses = algorithm.loss(data['inputs'], data['data_samples'])
    assert not torch.allclose(data['inputs'], inputs)  # mixed
    assert torch.equal(seen['teacher'], seen['student'])
    assert 'teacher_acc' not in losses  # soft labels after mixup
    assert torch.isfinite(losses['distill.loss_w2s'])


def test_offline_weak_logits_give_the_online_loss():
    torch.manual_seed(0)
    online = MODELS.build(
        w2s_model(vit(), cnn(4), calculate_student_loss=False))
    offline = MODELS.build(
        w2s_model(vit(), None, calculate_student_loss=False))
    offline.student.load_state_dict(online.student.state_dict())
    assert not any(True for _ in offline.teacher.parameters())

    inputs, samples = batch()
    with torch.no_grad():
        weak_logits = online.teacher(inputs, mode='tensor')
    for sample, logits in zip(samples, weak_logits):
        sample.set_field(logits, 'weak_logits')
    online_losses = online.loss(inputs, samples)
    offline_losses = offline.loss(inputs, samples)
    for key in ('distill.loss_w2s', 'distill.w2s_beta', 'teacher_acc'):
        torch.testing.assert_close(offline_losses[key], online_losses[key])


def test_offline_mode_without_weak_logits_says_what_is_missing():
    offline = MODELS.build(w2s_model(cnn(8), None))
    inputs, samples = batch()
    with pytest.raises(KeyError, match='weak_logits.*WeakLabelDataset'):
        offline.loss(inputs, samples)


def test_offline_mode_refuses_batch_augments_and_checkpoints():
    cfg = w2s_model(cnn(8), None)
    cfg['data_preprocessor'] = dict(
        cfg['data_preprocessor'],
        batch_augments=dict(
            augments=[dict(type='mmpretrain.Mixup', alpha=0.8)]))
    with pytest.raises(ValueError, match='offline weak logits'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='teacher_ckpt'):
        MODELS.build(w2s_model(cnn(8), None, teacher_ckpt='weak.pth'))


def test_trainable_teacher_is_refused():
    with pytest.raises(ValueError, match='teacher_trainable'):
        MODELS.build(w2s_model(cnn(8), cnn(4), teacher_trainable=True))


def test_stop_distill_hook_turns_the_distill_losses_off():
    from types import SimpleNamespace

    from mmengine.logging import MMLogger
    from mmrazor.engine import StopDistillHook

    algorithm = MODELS.build(w2s_model(cnn(8), cnn(4)))
    runner = SimpleNamespace(
        epoch=3, model=algorithm, logger=MMLogger.get_current_instance())
    StopDistillHook(stop_epoch=3).before_train_epoch(runner)
    inputs, samples = batch()
    losses = algorithm.loss(inputs, samples)
    assert 'student.loss' in losses
    assert not any(key.startswith('distill.') for key in losses)


def test_a_teacher_without_weights_is_refused(tmp_path):
    """No teacher_ckpt and no weights in the teacher's config: refused,
    naming teacher_ckpt; a wrong path names teacher_ckpt too."""
    with pytest.raises(ValueError, match='teacher_ckpt is not set'):
        MODELS.build(w2s_model(vit(), cnn(4), allow_random_teacher=False))
    missing = str(tmp_path / 'teacher.pth')
    with pytest.raises(FileNotFoundError, match=f"teacher_ckpt '{missing}' "
                       'is not a file; train the weak teacher first'):
        MODELS.build(
            w2s_model(vit(), cnn(4), teacher_ckpt=missing,
                      allow_random_teacher=False))
    # a teacher whose config loads its own weights needs no teacher_ckpt
    weights = str(tmp_path / 'backbone.pth')
    teacher = MODELS.build(dict(cnn(4), _scope_='mmpretrain'))
    torch.save(teacher.state_dict(), weights)
    pretrained = cnn(4)
    pretrained['init_cfg'] = dict(type='Pretrained', checkpoint=weights)
    algorithm = MODELS.build(
        w2s_model(vit(), pretrained, allow_random_teacher=False))
    algorithm.init_weights()
    for name, value in teacher.state_dict().items():
        torch.testing.assert_close(algorithm.teacher.state_dict()[name], value)
