# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from naive_losses import naive_adaptconf, naive_ce, naive_kd

from mmw2s.models.losses import AdaptConfLoss

SETTINGS = [
    # N, C, tau, threshold, warmup_factor, loss_weight
    (1, 2, 1.0, 0.5, 1.0, 1.0),
    (7, 10, 4.0, 0.25, 0.3, 2.0),
    (32, 100, 10.0, 8.0, 1.0, 0.5),
    (16, 1000, 0.5, 4.0, 0.0, 1.0),
]


@pytest.mark.parametrize('n,c,tau,threshold,warmup,weight', SETTINGS)
def test_matches_the_naive_formula_with_gradients(n, c, tau, threshold, warmup,
                                                  weight):
    torch.manual_seed(n * c)
    z_s = (3 * torch.randn(n, c, dtype=torch.float64)).requires_grad_()
    z_t = 3 * torch.randn(n, c, dtype=torch.float64)
    loss_fn = AdaptConfLoss(tau=tau, threshold=threshold, loss_weight=weight)
    loss_fn.warmup_factor = warmup
    loss = loss_fn(z_s, z_t)
    (grad, ) = torch.autograd.grad(loss, z_s)

    z_s_ref = z_s.detach().clone().requires_grad_()
    expected, beta = naive_adaptconf(z_s_ref, z_t, tau, threshold, warmup,
                                     weight)
    (expected_grad, ) = torch.autograd.grad(expected, z_s_ref)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(grad, expected_grad)
    torch.testing.assert_close(loss_fn.last_stats['beta'], beta.mean())


def test_gradcheck_in_float64():
    """beta carries no gradient by design, so finite differences only match
    where beta is locally constant: where the argmaxes agree (beta = gamma/2)
    and with warmup_factor 0 (beta = 0)."""
    torch.manual_seed(0)
    z_s = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    z_t = torch.randn(6, 5, dtype=torch.float64)
    z_t[torch.arange(6), z_s.argmax(1)] += 10.0
    loss_fn = AdaptConfLoss(tau=2.0, threshold=0.5)
    assert torch.autograd.gradcheck(lambda s: loss_fn(s, z_t), (z_s, ))
    loss_fn.warmup_factor = 0.0
    z_t = torch.randn(6, 5, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda s: loss_fn(s, z_t), (z_s, ))


def test_beta_is_at_most_half_the_warmup_factor_with_equality_on_agreement():
    torch.manual_seed(1)
    z_s = torch.randn(256, 10)
    z_t = z_s + 2 * torch.randn(256, 10)
    agree = z_s.argmax(1) == z_t.argmax(1)
    assert 0 < agree.sum() < 256
    warmup = 0.8
    ce_self = naive_ce(z_s, z_s.argmax(1))
    ce_teach = naive_ce(z_s, z_t.argmax(1))
    beta = warmup * torch.sigmoid((ce_self - ce_teach) / 0.5)
    assert torch.all(beta <= warmup / 2 + 1e-7)
    torch.testing.assert_close(beta[agree],
                               torch.full_like(beta[agree], warmup / 2))
    assert torch.all(beta[~agree] < warmup / 2)

    loss_fn = AdaptConfLoss(threshold=0.5)
    loss_fn.warmup_factor = warmup
    loss_fn(z_s, z_t)
    torch.testing.assert_close(loss_fn.last_stats['beta'], beta.mean())
    torch.testing.assert_close(loss_fn.last_stats['agreement'],
                               agree.float().mean())


def test_agreeing_teacher_gives_half_kd_plus_half_self_ce():
    torch.manual_seed(2)
    z_s = torch.randn(16, 7)
    z_t = z_s.clone()
    z_t[torch.arange(16), z_s.argmax(1)] += 5.0  # same argmax, other probs
    loss = AdaptConfLoss(tau=3.0)(z_s, z_t)
    expected = 0.5 * naive_kd(z_s, z_t, 3.0).mean() + 0.5 * naive_ce(
        z_s, z_s.argmax(1)).mean()
    torch.testing.assert_close(loss, expected)


def test_stats_split_the_loss_into_its_terms():
    torch.manual_seed(3)
    loss_fn = AdaptConfLoss(loss_weight=3.0)
    loss = loss_fn(torch.randn(8, 4), torch.randn(8, 4))
    stats = loss_fn.last_stats
    assert set(stats) == {'beta', 'agreement', 'kd_term', 'ce_term'}
    assert all(not value.requires_grad for value in stats.values())
    torch.testing.assert_close(loss,
                               3.0 * (stats['kd_term'] + stats['ce_term']))


def test_teacher_gets_no_gradient():
    z_s = torch.randn(4, 3, requires_grad=True)
    z_t = torch.randn(4, 3, requires_grad=True)
    AdaptConfLoss()(z_s, z_t).backward()
    assert z_s.grad is not None
    assert z_t.grad is None


def test_one_softmax_per_input_and_temperature(monkeypatch):
    """Softmaxes are the loss's only passes of exp over (N, C); a log-
    softmax (two such passes with its exponential) is taken only for a
    masked teacher class."""
    calls = []

    def counting(name):
        original = getattr(F, name)

        def count(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(F, name, count)

    counting('softmax')
    counting('log_softmax')
    monkeypatch.setattr(torch.Tensor, 'exp', None)
    monkeypatch.setattr(torch, 'exp', None)
    AdaptConfLoss(tau=1.0)(torch.randn(4, 3), torch.randn(4, 3))
    assert calls == ['softmax'] * 2  # student and teacher at tau = 1
    calls.clear()
    AdaptConfLoss(tau=2.0)(torch.randn(4, 3), torch.randn(4, 3))
    assert calls == ['softmax'] * 3  # both at tau, the student at 1 too
