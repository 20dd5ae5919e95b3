# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
from mmrazor.models import KLDivergence
from naive_losses import naive_augconf

from mmw2s.models.losses import AugConfLoss


@pytest.mark.parametrize('n,c,tau,alpha,warmup,weight', [
    (1, 2, 1.0, 0.5, 1.0, 1.0),
    (9, 10, 4.0, 0.3, 0.5, 2.0),
    (32, 100, 10.0, 1.0, 1.0, 0.5),
    (16, 1000, 0.5, 0.5, 0.0, 1.0),
])
def test_matches_the_naive_formula_with_gradients(n, c, tau, alpha, warmup,
                                                  weight):
    torch.manual_seed(n + c)
    z_s = (3 * torch.randn(n, c, dtype=torch.float64)).requires_grad_()
    z_t = 3 * torch.randn(n, c, dtype=torch.float64)
    loss_fn = AugConfLoss(tau=tau, alpha=alpha, loss_weight=weight)
    loss_fn.warmup_factor = warmup
    loss = loss_fn(z_s, z_t)
    (grad, ) = torch.autograd.grad(loss, z_s)
    z_s_ref = z_s.detach().clone().requires_grad_()
    expected = naive_augconf(z_s_ref, z_t, tau, alpha, warmup, weight)
    (expected_grad, ) = torch.autograd.grad(expected, z_s_ref)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(grad, expected_grad)
    torch.testing.assert_close(
        loss_fn.last_stats['alpha'],
        torch.tensor(warmup * alpha, dtype=torch.float64))


def test_gradcheck_in_float64():
    torch.manual_seed(0)
    z_s = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    z_t = torch.randn(6, 5, dtype=torch.float64)
    loss_fn = AugConfLoss(tau=2.0, alpha=0.4)
    assert torch.autograd.gradcheck(lambda s: loss_fn(s, z_t), (z_s, ))


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_alpha_zero_is_mmrazor_kl_divergence(tau):
    torch.manual_seed(4)
    z_s = torch.randn(16, 10)
    z_t = torch.randn(16, 10)
    expected = KLDivergence(tau=tau, reduction='batchmean')(z_s, z_t)
    torch.testing.assert_close(
        AugConfLoss(tau=tau, alpha=0.0)(z_s, z_t), expected)
