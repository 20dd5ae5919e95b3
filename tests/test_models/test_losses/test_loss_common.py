# Copyright (c) mmw2s contributors. All rights reserved.
"""Behaviour shared by the three weak-to-strong losses: stability, dtypes,
errors, registry."""
import pytest
import torch
from mmrazor.registry import MODELS

import mmw2s  # noqa: F401
from mmw2s.models.losses import AdaptConfLoss, AugConfLoss, LogConfLoss

LOSSES = [
    lambda: AdaptConfLoss(tau=1.0, threshold=1e-3),
    lambda: AdaptConfLoss(tau=10.0, threshold=0.5),
    lambda: AugConfLoss(tau=4.0, alpha=0.5),
    lambda: LogConfLoss(alpha=0.5),
]


@pytest.mark.parametrize('make_loss', LOSSES)
@pytest.mark.parametrize('num_classes', [2, 10])
def test_finite_at_extreme_logits_and_small_threshold(make_loss, num_classes):
    torch.manual_seed(6)
    z_s = (1e4 * torch.randn(64, num_classes)).requires_grad_()
    z_t = 1e4 * torch.randn(64, num_classes)
    loss = make_loss()(z_s, z_t)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z_s.grad).all()


@pytest.mark.parametrize('make_loss', LOSSES)
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_inputs_compute_in_float32(make_loss, dtype):
    torch.manual_seed(7)
    z_s32 = 20 * torch.randn(32, 10)
    z_t32 = 20 * torch.randn(32, 10)
    z_s = z_s32.to(dtype).requires_grad_()
    loss = make_loss()(z_s, z_t32.to(dtype))
    loss.backward()
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(z_s.grad.float()).all()
    reference = make_loss()(z_s.detach().float(), z_t32.to(dtype).float())
    torch.testing.assert_close(loss, reference)


def test_float32_in_float32_out():
    loss = AdaptConfLoss()(torch.randn(4, 3), torch.randn(4, 3))
    assert loss.dtype == torch.float32 and loss.dim() == 0


@pytest.mark.parametrize('make_loss', LOSSES)
def test_shape_errors_name_the_argument(make_loss):
    loss_fn = make_loss()
    with pytest.raises(ValueError, match='preds_S must be 2-D'):
        loss_fn(torch.randn(4, 3, 2), torch.randn(4, 3))
    with pytest.raises(ValueError, match='preds_T must be 2-D'):
        loss_fn(torch.randn(4, 3), torch.randn(4))
    with pytest.raises(ValueError, match=r'same \(N, C\).*\(4, 3\).*\(5, 3\)'):
        loss_fn(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(4, 2\)'):
        loss_fn(torch.randn(4, 3), torch.randn(4, 2))


@pytest.mark.parametrize('build,message', [
    (lambda: AdaptConfLoss(tau=0), 'tau must be > 0, got 0'),
    (lambda: AugConfLoss(tau=-1.0), 'tau must be > 0, got -1.0'),
    (lambda: AdaptConfLoss(threshold=0.0), 'threshold must be > 0, got 0.0'),
    (lambda: AdaptConfLoss(threshold=float('nan')), 'threshold must be > 0'),
    (lambda: AugConfLoss(alpha=1.5),
     r'alpha must be in \[0.0, 1.0\], got 1.5'),
    (lambda: LogConfLoss(alpha=-0.1), r'alpha must be in \[0.0, 1.0\]'),
    (lambda: AdaptConfLoss(loss_weight=-1),
     'loss_weight must be >= 0, got -1'),
    (lambda: LogConfLoss(loss_weight=-0.5), 'loss_weight must be >= 0'),
])
def test_invalid_arguments_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize('loss_type',
                         [AdaptConfLoss, AugConfLoss, LogConfLoss])
def test_warmup_factor_outside_unit_interval_is_refused(loss_type):
    loss_fn = loss_type()
    assert loss_fn.warmup_factor == 1.0
    loss_fn.warmup_factor = 0.25
    assert loss_fn.warmup_factor == 0.25
    with pytest.raises(ValueError, match=r'warmup_factor must be in .*1.2'):
        loss_fn.warmup_factor = 1.2
    with pytest.raises(ValueError, match='warmup_factor'):
        loss_fn.warmup_factor = -0.1
    assert loss_fn.warmup_factor == 0.25


@pytest.mark.parametrize('cfg,loss_type', [
    (dict(type='AdaptConfLoss', tau=2.0, threshold=4.0), AdaptConfLoss),
    (dict(type='AugConfLoss', alpha=0.3), AugConfLoss),
    (dict(type='mmrazor.LogConfLoss', alpha=0.5), LogConfLoss),
])
def test_losses_build_from_config(cfg, loss_type):
    loss_fn = MODELS.build(cfg)
    assert type(loss_fn) is loss_type
    if 'tau' in cfg:
        assert loss_fn.tau == cfg['tau']


@pytest.mark.parametrize('make_loss', LOSSES)
def test_autocast_does_not_lower_the_precision(make_loss):
    torch.manual_seed(8)
    z_s, z_t = 5 * torch.randn(64, 1000), 5 * torch.randn(64, 1000)
    expected = make_loss()(z_s, z_t)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = make_loss()(z_s, z_t)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected)


@pytest.mark.parametrize('make_loss', LOSSES[:3])
def test_masked_teacher_class_adds_nothing(make_loss):
    """A teacher logit of -inf (a masked class) has p_t = 0: its KD term is
    0, not 0 * (-inf) = NaN, and the loss equals the loss with that class's
    teacher logit pushed far down."""
    torch.manual_seed(3)
    z_s = torch.randn(8, 3, requires_grad=True)
    # rows with and without a masked class in one batch
    z_t = torch.tensor([[0.0, 1.0, float('-inf')], [0.0, 1.0,
                                                    0.5]]).repeat(4, 1)
    loss = make_loss()(z_s, z_t)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z_s.grad).all()
    far = z_t.clone()
    far[far == float('-inf')] = -1e4
    grad, z_s.grad = z_s.grad, None
    far_loss = make_loss()(z_s, far)
    far_loss.backward()
    assert loss.item() == pytest.approx(far_loss.item(), 1e-5)
    torch.testing.assert_close(grad, z_s.grad)


@pytest.mark.parametrize('make_loss', LOSSES[:3])
def test_large_logits_lose_no_precision(make_loss):
    """Logits are defined up to a constant per row: shifted by +-100, the
    float32 loss and gradient stay those of float64 (each log-probability
    is centred per element, as a log-softmax is)."""
    torch.manual_seed(5)
    z_s, z_t = torch.randn(16, 1000) * 3, torch.randn(16, 1000) * 3
    exact = torch.zeros_like(z_s, dtype=torch.float64, requires_grad=True)
    make_loss()(z_s.double() + exact, z_t.double()).backward()
    shifted = torch.zeros_like(z_s, requires_grad=True)
    loss = make_loss()(z_s + 100 + shifted, z_t - 100)
    loss.backward()
    reference = make_loss()(z_s.double(), z_t.double()).item()
    assert loss.item() == pytest.approx(reference, rel=1e-6)
    torch.testing.assert_close(
        shifted.grad.double(), exact.grad, rtol=1e-4, atol=1e-9)
