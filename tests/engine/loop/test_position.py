"""The checkpointed position and how a resume continues from it, at the same or another world size."""

from __future__ import annotations

from emkit.engine.loop.position import Layout, checkpoint_extra, lr_offset, resume_point
from emkit.engine.loop.schedule import lr_factor


def saved(layout: Layout, epoch: int, steps_done: int, *, finished: bool = False, step: int | None = None) -> dict:
    plan = layout.plan(epoch)
    before = epoch * layout.plan(0).steps
    extra = checkpoint_extra(layout, plan, epoch_step=steps_done, steps_done=steps_done, finished=finished,
                             samples=(before + steps_done) * layout.global_batch)
    return {"step": before + steps_done if step is None else step, **extra}


def test_same_layout_continues_exactly_where_the_run_stopped():
    layout = Layout(items=33, batch_size=2, world_size=2, steps_per_epoch=None)  # 8 steps of 4
    state = saved(layout, 1, 3)
    point = resume_point(state, state["step"], layout)
    assert (point.epoch, point.epoch_step, point.note) == (1, 3, None)
    assert point.plan.start == 12 and point.plan.steps == 5
    assert lr_offset(point.samples, state["step"], layout.global_batch) == 0


def test_a_finished_epoch_resumes_with_the_next_one():
    layout = Layout(items=32, batch_size=4, world_size=1, steps_per_epoch=None)
    state = saved(layout, 0, 8, finished=True)
    point = resume_point(state, 8, layout)
    assert point.epoch == 1 and point.plan is None


def test_another_world_size_keeps_the_items_and_says_what_changes():
    old = Layout(items=30, batch_size=2, world_size=4, steps_per_epoch=None)  # 3 steps of 8
    state = saved(old, 0, 2)  # 16 items trained
    new = Layout(items=30, batch_size=2, world_size=2, steps_per_epoch=None)
    point = resume_point(state, 2, new)
    assert point.plan.start == 16 and point.plan.global_batch == 4 and point.plan.steps == 3  # 14 left: 3 x 4
    note = point.note
    assert "global batch is 4 (was 8)" in note and "learning rate is not rescaled" in note
    assert "train.batch_size=4 would keep the old global batch" in note
    # the schedule continues from the fraction of samples trained (16 of 30 -> 4 steps of 4 done)
    offset = lr_offset(point.samples, 2, new.global_batch)
    assert offset == 2 and lr_factor("cosine", 2 + offset, 8) == lr_factor("cosine", 4, 8)


def test_checkpoints_without_a_position_resume_as_before():
    layout = Layout(items=16, batch_size=2, world_size=2, steps_per_epoch=None)  # 4 steps per epoch
    mid = resume_point({"step": 6, "epoch": 1, "epoch_step": 2}, 6, layout)
    assert mid.epoch == 1 and mid.plan.start == 8 and mid.note is None
    end = resume_point({"step": 8, "epoch": 1, "epoch_step": 4}, 8, layout)
    assert end.epoch == 2 and end.plan is None
