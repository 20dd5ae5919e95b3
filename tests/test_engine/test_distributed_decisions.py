# Copyright (c) mmw2s contributors. All rights reserved.
"""Non-finite losses on one rank of two (gloo, CPU): every rank decides
the same."""
import os.path as osp
from types import SimpleNamespace

import torch
import torch.distributed as dist
from conftest import join_two_ranks, results_of_two_ranks
from mmengine.logging import MessageHub
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import mmw2s  # noqa: F401
from mmw2s.engine import SkipNonFiniteOptimWrapper
from mmw2s.engine.hooks import NonFiniteCheckHook

STEPS = 3
NAN_STEP = 1


def _inputs(rank: int, step: int) -> torch.Tensor:
    return torch.tensor([[rank + 1.0, step - 1.0]])


def _worker(rank: int, out_dir: str) -> None:
    join_two_ranks(rank, out_dir)
    try:
        torch.manual_seed(0)
        model = DistributedDataParallel(nn.Linear(2, 1))
        MessageHub.get_instance(f'rank{rank}')
        wrapper = SkipNonFiniteOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        for step in range(STEPS):
            loss = model(_inputs(rank, step)).sum()
            if step == NAN_STEP and rank == 0:
                loss = loss * torch.nan
            wrapper.update_params(loss)
        runner = SimpleNamespace(
            model=model, iter=4, epoch=1, work_dir='work_dir')
        try:
            NonFiniteCheckHook().after_train_iter(
                runner,
                0,
                outputs=dict(
                    loss=torch.tensor(torch.nan if rank == 1 else 2.0)))
            error = None
        except FloatingPointError as raised:
            error = str(raised)
        torch.save(
            dict(
                skipped=MessageHub.get_current_instance().get_info(
                    'skipped_batches'),
                state=model.module.state_dict(),
                error=error), osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_a_nan_on_one_rank_is_skipped_or_stopped_on_every_rank(tmp_path):
    ranks = results_of_two_ranks(_worker, tmp_path)
    # both ranks skipped the step, so the same (paired) updates remain:
    # those of one process averaging both ranks' gradients
    torch.manual_seed(0)
    reference = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for step in range(STEPS):
        if step == NAN_STEP:
            continue
        optimizer.zero_grad()
        (sum(reference(_inputs(rank, step)).sum()
             for rank in range(2)) / 2).backward()
        optimizer.step()
    for result in ranks:
        assert result['skipped'] == 1
        for name, value in reference.state_dict().items():
            torch.testing.assert_close(result['state'][name], value)
    # the hook stops every rank with the same error, naming rank 1
    assert ranks[0]['error'] == ranks[1]['error']
    assert ranks[0]['error'].startswith(
        'Non-finite loss at iteration 5 (epoch 2): rank 1 (loss nan: the '
        'model records no logits to inspect)')
