"""What each rank and step sees: the epoch plan, the sharded sampler and per-step seeds.

An epoch is planned globally, independent of how many processes train it:

* its **order** is ``passes`` shuffled passes over the split, pass ``k`` permuted by
  ``randperm(n, seed + epoch * passes + k)`` (torch's ``DistributedSampler`` rule), so it
  depends only on (seed, epoch, passes);
* its **extent** is how many items of that order it may use: the whole pass when
  ``train.steps_per_epoch`` is unset, ``steps_per_epoch x global batch`` otherwise;
* step ``t`` trains on the window ``order[start + t*G : start + (t+1)*G]`` of one global
  batch ``G = batch_size x world_size``; rank ``r`` takes the window's items ``r, r + W,
  r + 2W, ...`` (the interleaving ``DistributedSampler`` uses), so in every step the ranks'
  items are disjoint and together are the window.

``start`` is how many items of the epoch's order earlier steps consumed: a run resumed
mid-epoch continues at that item -- with the same or with another number of processes --
so within an epoch nothing is trained twice and nothing is skipped except the tail of
fewer than ``G`` items that does not fill a global batch.

``step_seed``: every random choice inside a step depends only on (run seed, rank, step).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator

import torch
from torch.utils.data import Sampler


def step_seed(base_seed: int, rank: int, step: int, salt: int = 0) -> int:
    """A 63-bit seed from (run seed, rank, step): deterministic and well mixed."""
    x = (base_seed * 0x9E3779B97F4A7C15 + rank * 0xBF58476D1CE4E5B9 + step * 0x94D049BB133111EB + salt) & (2**64 - 1)
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & (2**64 - 1)
    x ^= x >> 29
    return x & (2**63 - 1)


def epoch_order(n: int, seed: int, epoch: int, passes: int) -> list[int]:
    """The global item order of ``epoch``: ``passes`` shuffled passes over ``range(n)``."""
    order: list[int] = []
    for k in range(passes):
        gen = torch.Generator()
        gen.manual_seed(seed + epoch * passes + k)
        order += torch.randperm(n, generator=gen).tolist()
    return order


@dataclasses.dataclass(frozen=True)
class EpochPlan:
    """Which items one epoch trains on, in global terms (see the module docstring)."""

    epoch: int
    passes: int
    extent: int
    global_batch: int
    start: int = 0

    @property
    def steps(self) -> int:
        """Optimisation steps left in the epoch from ``start``."""
        return max(0, (self.extent - self.start) // self.global_batch)

    def consumed_after(self, steps_done: int) -> int:
        """Items of the order consumed once ``steps_done`` of this plan's steps ran."""
        return self.start + steps_done * self.global_batch


def fresh_plan(epoch: int, n: int, global_batch: int, steps_per_epoch: int | None) -> EpochPlan:
    """The plan of an epoch started from its first item.

    ``steps_per_epoch`` None: one pass (``n // global_batch`` steps, the tail of fewer than
    one global batch left out); otherwise that many steps, over as many passes as needed.
    """
    if steps_per_epoch is None:
        return EpochPlan(epoch, passes=1, extent=n, global_batch=global_batch)
    extent = steps_per_epoch * global_batch
    return EpochPlan(epoch, passes=max(1, math.ceil(extent / n)), extent=extent, global_batch=global_batch)


def rank_items(order: list[int], plan: EpochPlan, rank: int, world_size: int) -> list[int]:
    """Rank ``rank``'s items for the plan's remaining steps, batch after batch."""
    per_rank = plan.global_batch // world_size
    items: list[int] = []
    for t in range(plan.steps):
        first = plan.start + t * plan.global_batch + rank
        items += order[first : first + per_rank * world_size : world_size]
    return items


class ShardedEpochSampler(Sampler[int]):
    """This rank's items of the current :class:`EpochPlan` (set with ``set_plan``)."""

    def __init__(self, n: int, *, rank: int, world_size: int, batch_size: int, seed: int) -> None:
        self.n, self.rank, self.world_size = n, rank, world_size
        self.batch_size, self.seed = batch_size, seed
        self.plan = fresh_plan(0, n, self.global_batch, None)

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size

    def set_plan(self, plan: EpochPlan) -> None:
        if plan.global_batch != self.global_batch:
            raise ValueError(f"plan for a global batch of {plan.global_batch}, sampler has {self.global_batch}")
        self.plan = plan

    def __iter__(self) -> Iterator[int]:
        order = epoch_order(self.n, self.seed, self.plan.epoch, self.plan.passes)
        return iter(rank_items(order, self.plan, self.rank, self.world_size))

    def __len__(self) -> int:
        return self.plan.steps * self.batch_size


class ShardSampler(Sampler[int]):
    """Fixed-order evaluation shard: rank ``r`` takes items ``r, r + W, ...`` (no padding, so
    every item is evaluated exactly once across ranks and the means match one process)."""

    def __init__(self, n: int, *, rank: int, world_size: int) -> None:
        self.n, self.rank, self.world_size = n, rank, world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world_size))
