# Copyright (c) mmw2s contributors. All rights reserved.
"""Direct transcriptions of the loss formulas, written for readability, not
for stability: the references the library's losses are checked against."""
import torch
import torch.nn.functional as F


def naive_kd(z_s, z_t, tau):
    p_t = F.softmax(z_t / tau, dim=1)
    p_s = F.softmax(z_s / tau, dim=1)
    return tau**2 * (p_t * (torch.log(p_t) - torch.log(p_s))).sum(dim=1)


def naive_ce(z_s, labels):
    return -torch.log(F.softmax(z_s, dim=1))[torch.arange(len(z_s)), labels]


def naive_adaptconf(z_s, z_t, tau, threshold, warmup_factor, loss_weight):
    z_t = z_t.detach()
    ce_self = naive_ce(z_s, z_s.argmax(dim=1))
    ce_teach = naive_ce(z_s, z_t.argmax(dim=1))
    with torch.no_grad():
        e_self = torch.exp(ce_self / threshold)
        e_teach = torch.exp(ce_teach / threshold)
        beta = warmup_factor * e_self / (e_self + e_teach)
    kd = naive_kd(z_s, z_t, tau)
    return loss_weight * (((1 - beta) * kd).mean() +
                          (beta * ce_self).mean()), beta


def naive_augconf(z_s, z_t, tau, alpha, warmup_factor, loss_weight):
    z_t = z_t.detach()
    a = warmup_factor * alpha
    ce_self = naive_ce(z_s, z_s.argmax(dim=1))
    return loss_weight * (
        (1 - a) * naive_kd(z_s, z_t, tau).mean() + a * ce_self.mean())


def naive_logconf(z_s, z_t, alpha, warmup_factor, loss_weight):
    z_t = z_t.detach()
    a = warmup_factor * alpha
    num_classes = z_s.shape[1]
    p_t = F.softmax(z_t, dim=1)
    with torch.no_grad():
        if num_classes == 2:
            p_s1 = F.softmax(z_s, dim=1)[:, 1]
            threshold = torch.quantile(p_s1, 1 - p_t[:, 1].mean())
            hard = (p_s1 > threshold).long()
        else:
            hard = z_s.argmax(dim=1)
        target = (1 - a) * p_t + a * F.one_hot(hard, num_classes).to(p_t)
    log_p_s = torch.log(F.softmax(z_s, dim=1))
    return loss_weight * (-(target * log_p_s).sum(dim=1)).mean()
