# Copyright (c) mmw2s contributors. All rights reserved.
import pytest
import torch
from naive_losses import naive_logconf

from mmw2s.models.losses import LogConfLoss


@pytest.mark.parametrize('n,c,alpha,warmup,weight', [
    (1, 3, 0.5, 1.0, 1.0),
    (9, 10, 0.3, 0.5, 2.0),
    (32, 100, 1.0, 1.0, 0.5),
    (8, 2, 0.5, 1.0, 1.0),
    (33, 2, 0.75, 0.4, 1.0),
])
def test_matches_the_naive_formula_with_gradients(n, c, alpha, warmup, weight):
    torch.manual_seed(n * 3 + c)
    z_s = (3 * torch.randn(n, c, dtype=torch.float64)).requires_grad_()
    z_t = 3 * torch.randn(n, c, dtype=torch.float64)
    loss_fn = LogConfLoss(alpha=alpha, loss_weight=weight)
    loss_fn.warmup_factor = warmup
    loss = loss_fn(z_s, z_t)
    (grad, ) = torch.autograd.grad(loss, z_s)
    z_s_ref = z_s.detach().clone().requires_grad_()
    expected = naive_logconf(z_s_ref, z_t, alpha, warmup, weight)
    (expected_grad, ) = torch.autograd.grad(expected, z_s_ref)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(grad, expected_grad)


def test_gradcheck_in_float64():
    torch.manual_seed(0)
    for num_classes in (2, 5):
        z_s = torch.randn(
            6, num_classes, dtype=torch.float64, requires_grad=True)
        z_t = torch.randn(6, num_classes, dtype=torch.float64)
        loss_fn = LogConfLoss(alpha=0.4)
        assert torch.autograd.gradcheck(lambda s: loss_fn(s, z_t), (z_s, ))


def test_binary_hard_labels_follow_the_teacher_class_balance():
    torch.manual_seed(5)
    z_s = torch.randn(100, 2)
    z_t = torch.zeros(100, 2)
    z_t[:, 1] = -1.5  # the teacher puts ~18% of its mass on class 1
    loss_fn = LogConfLoss(alpha=1.0)
    loss_fn(z_s, z_t)
    balance = torch.softmax(z_t, 1)[:, 1].mean()
    # the hardened agreement is the fraction of hardened labels equal to the
    # teacher's argmax (class 0 for every sample here)
    hardened_class_1 = 1 - loss_fn.last_stats['hardened_agreement']
    assert abs(hardened_class_1 - balance) <= 0.02
