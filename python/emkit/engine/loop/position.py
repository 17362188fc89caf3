"""Where a run stands in its data, as checkpointed, and how a resume continues from it.

A checkpoint records, besides the optimisation step, the position in the epoch's global
item order (``engine/runtime/sampling.py``): the epoch, the items consumed, the plan's
extent and passes, whether the epoch ended, the world size and per-process batch that
wrote it and the samples trained so far. Resuming continues the epoch in progress at the
first item not yet trained, whatever the number of processes now:

* same processes and batch: exactly the steps an uninterrupted run would take;
* another world size (or ``train.batch_size``): ``train.batch_size`` stays per process, so
  the global batch changes; the epoch in progress trains its remaining items in batches
  of the new global size (nothing twice, nothing skipped but a tail smaller than one
  batch), later epochs are planned for it. The learning rate is not rescaled (emkit does
  not apply a batch-size scaling rule; set ``train.lr`` yourself) and the schedule
  continues from the fraction of the run's samples already trained. One warning line
  says all of this with the numbers.

Checkpoints written before positions were recorded resume as before (same world size).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from emkit.engine.runtime.sampling import EpochPlan, fresh_plan


@dataclasses.dataclass(frozen=True)
class Layout:
    """How the run trains now: split size, per-process batch, processes, steps per epoch."""

    items: int
    batch_size: int
    world_size: int
    steps_per_epoch: int | None

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world_size

    def plan(self, epoch: int) -> EpochPlan:
        return fresh_plan(epoch, self.items, self.global_batch, self.steps_per_epoch)


def checkpoint_extra(layout: Layout, plan: EpochPlan, *, epoch_step: int, steps_done: int, finished: bool,
                     samples: int) -> dict[str, Any]:
    """The ``extra`` a checkpoint stores after ``steps_done`` steps of ``plan``."""
    return {"epoch": plan.epoch, "epoch_step": epoch_step, "position": {
        "consumed": plan.consumed_after(steps_done), "extent": plan.extent, "passes": plan.passes,
        "finished": finished, "world_size": layout.world_size, "batch_size": layout.batch_size,
        "samples": samples, "items": layout.items}}


@dataclasses.dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts: the epoch, its plan (None = a fresh epoch), the steps the
    epoch already had, the samples trained so far and the warning for a changed layout."""

    epoch: int
    plan: EpochPlan | None
    epoch_step: int
    samples: int
    note: str | None = None


def resume_point(extra: dict[str, Any], step: int, layout: Layout) -> ResumePoint:
    """Continue from a checkpoint's ``extra`` (see the module docstring)."""
    epoch, epoch_step = int(extra["epoch"]), int(extra["epoch_step"])
    pos = extra.get("position")
    if not isinstance(pos, dict):  # written before positions: the same layout is assumed
        steps = layout.plan(epoch).steps
        if epoch_step >= steps:
            return ResumePoint(epoch + 1, None, 0, step * layout.global_batch)
        plan = dataclasses.replace(layout.plan(epoch), start=epoch_step * layout.global_batch)
        return ResumePoint(epoch, plan, epoch_step, step * layout.global_batch)
    samples = int(pos["samples"])
    note = change_note(pos, layout, step, samples)
    if pos["finished"]:
        return ResumePoint(epoch + 1, None, 0, samples, note)
    plan = EpochPlan(epoch, passes=int(pos["passes"]), extent=int(pos["extent"]),
                     global_batch=layout.global_batch, start=min(int(pos["consumed"]), int(pos["extent"])))
    return ResumePoint(epoch, plan, epoch_step, samples, note)


def change_note(pos: dict[str, Any], layout: Layout, step: int, samples: int) -> str | None:
    """One line on what a resume with another world size / batch / split changes, or None."""
    old_world, old_batch = int(pos["world_size"]), int(pos["batch_size"])
    parts = []
    if (old_world, old_batch) != (layout.world_size, layout.batch_size):
        old_global = old_world * old_batch
        parts.append(
            f"resuming with {layout.world_size} process(es) x train.batch_size={layout.batch_size} where the "
            f"checkpoint was written by {old_world} x {old_batch}: the global batch is {layout.global_batch} "
            f"(was {old_global}); the epoch in progress continues at its first untrained item in batches of "
            f"{layout.global_batch}, later epochs have {layout.plan(0).steps} steps; the learning rate is not "
            f"rescaled (set train.lr for the new global batch; {_keeping(old_global, layout.world_size)}) and "
            f"the schedule continues from the fraction of samples trained")
    if int(pos.get("items", layout.items)) != layout.items:
        parts.append(f"the train split now has {layout.items} items (was {pos['items']}): the epoch in progress "
                     "keeps its position but its order is drawn anew")
    return "; ".join(parts) or None


def _keeping(global_batch: int, world_size: int) -> str:
    """How to keep the old global batch with ``world_size`` processes, if a whole batch can."""
    if global_batch % world_size:
        return f"no whole train.batch_size gives the old global batch of {global_batch} on {world_size} processes"
    return f"train.batch_size={global_batch // world_size} would keep the old global batch"


def lr_offset(samples: int, step: int, global_batch: int) -> float:
    """Steps to add to ``step`` so the schedule sees the fraction of samples trained (0 when
    the global batch never changed, keeping an uninterrupted run's rates exactly)."""
    if samples == step * global_batch:
        return 0
    return samples / global_batch - step
