"""The public callback protocol: every hook in order, both stages of init=self, stopping a run."""

from __future__ import annotations

from pathlib import Path

import pytest

import emkit
from emkit.errors import EmkitError

TINY = ["task=segmentation", "data=synthetic-stem", "data.size=64", "data.length=8", "data.val_length=2",
        "data.test_length=2", "task.crop=32", "generator=unet", "generator.blocks=2", "generator.width=4",
        "train.epochs=2", "train.batch_size=4", "train.device=cpu", "eval_epochs=[2]"]


class Recorder(emkit.Callback):
    def __init__(self, stop_at: int | None = None, raise_at: int | None = None) -> None:
        self.events: list[tuple] = []
        self.stop_at, self.raise_at = stop_at, raise_at

    def on_start(self, info: emkit.StartInfo) -> None:
        self.events.append(("start", info.run_dir.name, info.total_steps, info.step))

    def on_step(self, info: emkit.StepInfo):  # noqa: ANN201
        self.events.append(("step", info.run_dir.name, info.step, sorted(info.losses)[:1]))
        if info.step == self.raise_at:
            raise EmkitError(f"broken at {info.step}")
        return emkit.STOP if info.step == self.stop_at else None

    def on_eval(self, info: emkit.EvalInfo) -> None:
        self.events.append(("eval", info.split, info.epoch, sorted(info.metrics)))

    def on_epoch(self, info: emkit.EpochInfo) -> None:
        self.events.append(("epoch", info.epoch, sorted(info.metrics)))

    def on_end(self, info: emkit.EndInfo) -> None:
        self.events.append(("end", info.run_dir.name, info.step, type(info.generator).__name__))


def test_every_hook_in_order(tmp_path: Path) -> None:
    rec = Recorder()
    run = emkit.train(*TINY, "train.log_every=2", runs_dir=tmp_path, name="r", progress=False, callbacks=[rec])
    assert run.path == tmp_path / "r" and run.finished and not run.stopped
    kinds = [e[0] for e in rec.events]
    assert kinds == ["start", "step", "step", "eval", "epoch", "step", "step", "eval", "eval", "epoch", "end"]
    assert rec.events[0] == ("start", "r", 4, 0)
    assert rec.events[1][3] == [] and rec.events[2][3] == ["loss"]  # losses only on logged steps
    assert rec.events[3] == ("eval", "val", 1, ["bce", "dice", "iou"])
    assert rec.events[8][:3] == ("eval", "test", 2) and "test_dice" in rec.events[9][2]
    assert rec.events[-1] == ("end", "r", 4, "UNet")


def test_init_self_shows_both_stages(tmp_path: Path) -> None:
    rec = Recorder()
    emkit.train(*TINY, "train.epochs=1", "init=self", "pretrain.steps=2", runs_dir=tmp_path, name="s",
                progress=False, callbacks=[rec])
    starts = [e for e in rec.events if e[0] == "start"]
    assert [s[1] for s in starts] == ["pretrain", "s"]
    assert [e[1] for e in rec.events if e[0] == "end"] == ["pretrain", "s"]


def test_stop_keeps_a_resumable_checkpoint(tmp_path: Path) -> None:
    run = emkit.train(*TINY, runs_dir=tmp_path, name="c", progress=False, callbacks=[Recorder(stop_at=3)])
    assert run.stopped and not run.finished
    assert (run.path / "checkpoints" / "latest.json").is_file()
    rows = [r["step"] for r in run.metrics if r["kind"] == "step"]
    assert max(rows) <= 3
    resumed = emkit.train(resume=run.path, progress=False)
    assert resumed.finished and not resumed.stopped and resumed.path == run.path
    assert [r["epoch"] for r in resumed.epochs()] == [1, 2]


def test_stop_training_exception_stops_too(tmp_path: Path) -> None:
    class Raiser(emkit.Callback):
        def on_step(self, info):  # noqa: ANN001, ANN201
            raise emkit.StopTraining("enough")

    run = emkit.train(*TINY, runs_dir=tmp_path, name="x", progress=False, callbacks=[Raiser()])
    assert run.stopped and (run.path / "checkpoints" / "latest.json").is_file()


def test_another_error_propagates_and_keeps_the_folder(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="broken at 3"):
        emkit.train(*TINY, runs_dir=tmp_path, name="e", progress=False, callbacks=[Recorder(raise_at=3)])
    assert (tmp_path / "e" / "checkpoints" / "latest.json").is_file()  # epoch 1's checkpoint
    assert not (tmp_path / "e" / "generator.safetensors").exists()


def test_not_a_callback_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match=r"callbacks\[0\] \(int\) has none of the hooks"):
        emkit.train(*TINY, runs_dir=tmp_path, progress=False, callbacks=[3])


def test_callbacks_are_refused_with_torchrun(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="in-process callbacks cannot follow"):
        emkit.train(*TINY, "launcher=torchrun", "devices=2", runs_dir=tmp_path, callbacks=[Recorder()])
