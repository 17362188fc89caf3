"""The epoch plan and its sharding: disjoint ranks, the whole split, resumes at any world size.

Pure index arithmetic on the sampler the trainer uses (``ShardedEpochSampler``), for
uneven splits and several world sizes; the multi-process runs in
tests/engine/loop/test_multiprocess_runs.py check the same properties end to end.
"""

from __future__ import annotations

import itertools

import pytest
from torch.utils.data import DistributedSampler

from emkit.engine.runtime.sampling import EpochPlan, ShardedEpochSampler, epoch_order, fresh_plan, step_seed


def shards(n: int, world: int, batch: int, plan: EpochPlan, seed: int = 3) -> list[list[int]]:
    """Each rank's items of ``plan`` (what its DataLoader would draw)."""
    out = []
    for rank in range(world):
        sampler = ShardedEpochSampler(n, rank=rank, world_size=world, batch_size=batch, seed=seed)
        sampler.set_plan(plan)
        items = list(sampler)
        assert len(items) == len(sampler) == plan.steps * batch
        out.append(items)
    return out


def steps_of(ranks: list[list[int]], batch: int) -> list[list[int]]:
    """The global batch of every step: the ranks' batches of that step together."""
    count = len(ranks[0]) // batch
    return [sum((r[t * batch:(t + 1) * batch] for r in ranks), []) for t in range(count)]


@pytest.mark.parametrize("n,world,batch", list(itertools.product((30, 32, 33), (1, 2, 3, 4), (1, 2, 3))))
def test_one_epoch_is_disjoint_and_covers_the_split_but_a_short_tail(n, world, batch):
    g = world * batch
    plan = fresh_plan(5, n, g, None)
    ranks = shards(n, world, batch, plan)
    seen = sum(ranks, [])
    assert len(seen) == len(set(seen)), "an item was trained twice in one epoch"
    assert set(seen) <= set(range(n))
    assert n - len(seen) < g and len(seen) == (n // g) * g  # only the tail short of a global batch
    # every step's global batch is one window of the epoch's order, shared out between the ranks
    order = epoch_order(n, 3, 5, 1)
    for t, step in enumerate(steps_of(ranks, batch)):
        assert sorted(step) == sorted(order[t * g:(t + 1) * g])


def test_one_process_keeps_torchs_order_and_ranks_interleave_like_distributed_sampler():
    data = list(range(24))
    for world in (1, 2, 4):
        plan = fresh_plan(2, 24, world * 3, None)
        ranks = shards(24, world, 3, plan)
        for rank in range(world):
            plain = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=3, drop_last=True)
            plain.set_epoch(2)
            assert ranks[rank] == list(plain)


def test_steps_per_epoch_beyond_one_pass_repeats_whole_shuffled_passes():
    plan = fresh_plan(0, 10, 4, 7)  # 28 items of an order of 3 passes over 10
    assert (plan.passes, plan.extent, plan.steps) == (3, 28, 7)
    ranks = shards(10, 2, 2, plan)
    order = epoch_order(10, 3, 0, 3)
    assert sorted(sum(ranks, [])) == sorted(order[:28])
    assert all(sorted(order[k * 10:(k + 1) * 10]) == list(range(10)) for k in range(3))


@pytest.mark.parametrize("old_world,new_world,batch", [(2, 2, 2), (4, 2, 2), (1, 2, 2), (2, 1, 3), (2, 3, 2)])
@pytest.mark.parametrize("n", [30, 33])
def test_a_resume_mid_epoch_at_any_world_size_trains_each_item_once(old_world, new_world, batch, n):
    old_g, new_g = old_world * batch, new_world * batch
    first = fresh_plan(1, n, old_g, None)
    done = 2  # steps trained before the kill
    before = [items[:done * batch] for items in shards(n, old_world, batch, first)]
    resumed = EpochPlan(1, first.passes, first.extent, new_g, start=first.consumed_after(done))
    after = shards(n, new_world, batch, resumed)
    seen = sum(before, []) + sum(after, [])
    assert len(seen) == len(set(seen)), "an item was trained twice across the resume"
    assert n - len(seen) < new_g, "items were skipped beyond the tail of one global batch"
    if old_world == new_world:  # same layout: exactly the uninterrupted run's items
        assert [b + a for b, a in zip(before, after)] == shards(n, old_world, batch, first)


def test_step_seeds_differ_per_rank_and_step():
    seeds = {step_seed(7, rank, step) for rank in range(4) for step in range(50)}
    assert len(seeds) == 200 and step_seed(7, 1, 3) == step_seed(7, 1, 3)
