"""Evaluation of an objective over a whole split: per-sample metrics averaged across ranks.

Used by the training loop (validation every epoch, test at ``eval_epochs``), by
``emkit eval`` (``evaluate_run``) and for the sample grids, which show the first
validation batch.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from emkit.engine.runtime import distributed
from emkit.engine.runtime.sampling import ShardSampler, step_seed
from emkit.plugin_api import Objective, StepContext

#: Seed salts of validation and test batches (independent of the training steps' seeds).
VAL_SALT = 0x5A17
TEST_SALT = 0x7E57


def make_loader(ds: Any, batch_size: int, sampler: Any, workers: int, pin: bool) -> DataLoader:
    """The ``DataLoader`` every split uses (incomplete last batch kept; the sampler decides order)."""
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      pin_memory=pin, drop_last=False, persistent_workers=False)


def eval_loader(ds: Any, batch_size: int, dist_info: distributed.DistInfo, workers: int, pin: bool) -> DataLoader:
    """Fixed-order loader over a whole split (sharded across ranks in DDP without padding,
    so each item counts once and the means equal one process's)."""
    sampler = ShardSampler(len(ds), rank=dist_info.rank, world_size=dist_info.world_size) \
        if dist_info.enabled else None
    return make_loader(ds, batch_size, sampler, workers, pin)


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Tensors of a collated batch on ``device`` (other values untouched)."""
    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def set_train_mode(objective: Objective, training: bool) -> None:
    """``train()`` / ``eval()`` on every module of ``objective``."""
    for module in objective.modules().values():
        module.train(training)


def batch_size_of(batch: dict[str, Any]) -> int:
    """Number of samples in a collated batch (its ``image`` tensor's first dimension)."""
    return int(batch["image"].shape[0])


def accumulate(sums: dict[str, torch.Tensor], metrics: dict[str, torch.Tensor]) -> None:
    """Add one batch's per-sample metric values to ``sums`` (float64 on the CPU)."""
    for key, values in metrics.items():
        total = values.detach().double().cpu().sum()
        sums[key] = sums.get(key, torch.zeros((), dtype=torch.float64)) + total


def reduce_means(sums: dict[str, torch.Tensor], count: float, ctx: StepContext,
                 dist_info: distributed.DistInfo) -> dict[str, float]:
    """Sum ``sums`` and ``count`` over ranks; return the means.

    The metric names are rank 0's (a rank whose shard was empty contributes zeros)."""
    keys = distributed.broadcast_object(dist_info, sorted(sums))
    packed = torch.tensor([float(sums.get(k, 0.0)) for k in keys] + [count], dtype=torch.float64)
    on_gpu = dist_info.enabled and ctx.device.type == "cuda"
    packed = distributed.all_reduce_sum(dist_info, packed.to(ctx.device if on_gpu else "cpu")).cpu()
    total = float(packed[-1])
    return {k: float(packed[i]) / max(total, 1.0) for i, k in enumerate(keys)}


def evaluate(objective: Objective, loader: DataLoader, ctx: StepContext, dist_info: distributed.DistInfo,
             salt: int, max_batches: int | None, seed: int) -> tuple[dict[str, float], dict[str, Any] | None]:
    """Mean of per-sample metrics over ``loader`` (summed across ranks); first batch kept.

    The sample count is the batch size, so a ``validation_step`` that returns no metrics
    (``{}``) gives an empty result rather than an error.
    """
    set_train_mode(objective, False)
    sums: dict[str, torch.Tensor] = {}
    count = 0.0
    first = None
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            batch = to_device(batch, ctx.device)
            ctx.seed = step_seed(seed, 0, i, salt)
            accumulate(sums, objective.validation_step(batch, ctx))
            count += batch_size_of(batch)
            if first is None:
                first = batch
    set_train_mode(objective, True)
    return reduce_means(sums, count, ctx, dist_info), first
