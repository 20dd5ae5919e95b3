# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
from mmrazor.registry import MODELS
from model_helpers import cnn, vit, w2s_model

import mmw2s  # noqa: F401


@pytest.fixture
def teacher_weights(tmp_path):
    teacher = MODELS.build(cnn(4))
    for parameter in teacher.parameters():
        torch.nn.init.normal_(parameter)
    path = str(tmp_path / 'weak.pth')
    torch.save({
        'meta': {
            'epoch': 3
        },
        'state_dict': teacher.state_dict()
    }, path)
    return path, teacher.state_dict()


def test_teacher_checkpoint_is_loaded(teacher_weights):
    path, expected = teacher_weights
    algorithm = MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=path))
    algorithm.init_weights()  # must not overwrite the loaded teacher
    for name, value in algorithm.teacher.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_mismatching_checkpoint_is_refused_with_the_keys(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': MODELS.build(vit()).state_dict()}, path)
    with pytest.raises(ValueError) as error:
        MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=path))
    message = str(error.value)
    assert 'does not match the teacher' in message
    assert 'missing keys: backbone.' in message
    assert 'unexpected keys: backbone.' in message


def test_shape_mismatch_is_refused(tmp_path):
    path = str(tmp_path / 'wider.pth')
    torch.save({'state_dict': MODELS.build(cnn(8)).state_dict()}, path)
    with pytest.raises(ValueError, match=r'shape mismatches.*\(8, 3, 3, 3\)'):
        MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=path))


def test_distillation_checkpoint_loads_with_the_prefix(tmp_path):
    earlier = MODELS.build(w2s_model(cnn(4), vit()))
    for parameter in earlier.student.parameters():
        torch.nn.init.normal_(parameter)
    path = str(tmp_path / 'distilled.pth')
    torch.save({'state_dict': earlier.state_dict()}, path)

    with pytest.raises(ValueError, match="teacher_ckpt_prefix='architecture"):
        MODELS.build(w2s_model(vit(), cnn(4), teacher_ckpt=path))
    algorithm = MODELS.build(
        w2s_model(
            vit(),
            cnn(4),
            teacher_ckpt=path,
            teacher_ckpt_prefix='architecture.'))
    for name, value in earlier.student.state_dict().items():
        assert torch.equal(algorithm.teacher.state_dict()[name], value)


def test_missing_teacher_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        MODELS.build(
            w2s_model(
                vit(), cnn(4), teacher_ckpt=str(tmp_path / 'absent.pth')))
