"""``train.steps_per_epoch`` beyond one pass: the sampler repeats the reshuffled split."""

from __future__ import annotations

from torch.utils.data import DistributedSampler

from emkit.engine.runs.metrics_log import read_metrics
from emkit.engine.runtime.sampling import EpochPlan, ShardedEpochSampler, fresh_plan


def test_passes_are_whole_permutations_and_one_pass_is_unchanged():
    data = list(range(6))
    plain = DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=3, drop_last=True)
    ours = ShardedEpochSampler(6, rank=0, world_size=1, batch_size=1, seed=3)
    plain.set_epoch(2)
    ours.set_plan(fresh_plan(2, 6, 1, None))
    assert list(ours) == list(plain)
    ours.set_plan(fresh_plan(2, 6, 1, 18))  # 18 steps of one item: three passes
    order = list(ours)
    assert len(order) == len(ours) == 18 and ours.plan.passes == 3
    assert all(sorted(order[i:i + 6]) == data for i in (0, 6, 12)) and order[:6] != order[6:12]
    ours.set_plan(EpochPlan(2, passes=3, extent=18, global_batch=1, start=7))
    assert list(ours) == order[7:]


def test_a_small_set_trains_more_steps_per_epoch_than_one_pass(tmp_path):
    from emkit.engine.launch.start import launch

    out = launch(["task=denoise", "data=synthetic-stem", "data.size=32", "data.length=4", "data.val_length=2",
                  "task.crop=32", "generator=unet", "generator.blocks=2", "generator.width=4", "train.epochs=2",
                  "train.batch_size=2", "train.steps_per_epoch=5", "train.log_every=1", "train.device=cpu",
                  f"runs_dir={tmp_path}", "name=r"], [])
    rows = read_metrics(out / "metrics.csv")
    steps = [int(float(r["step"])) for r in rows if r["kind"] == "step"]
    epochs = [int(float(r["step"])) for r in rows if r["kind"] == "epoch"]
    assert steps == list(range(1, 11)) and epochs == [5, 10]
