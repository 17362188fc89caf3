"""``launch(..., callbacks=...)``: front ends (the napari plugin) observe a run and can stop it."""

from __future__ import annotations

from pathlib import Path

import pytest

from emkit.engine.loop.callbacks import TrainCallback
from emkit.engine.launch.start import launch
from emkit.errors import EmkitError

TINY = ["task=segmentation", "data=synthetic-stem", "data.size=64", "data.length=8", "data.val_length=2",
        "data.test_length=0", "task.crop=32", "generator=unet", "generator.blocks=2", "generator.width=4",
        "train.epochs=2", "train.batch_size=4", "train.device=cpu"]


class Recorder(TrainCallback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.steps: list[tuple[str, int]] = []
        self.ended: list[str] = []
        self.stop_at = stop_at

    def on_step_end(self, run) -> None:  # noqa: ANN001
        self.steps.append((run.out.name, run.step))
        if run.step == self.stop_at:
            raise EmkitError(f"stopped at {run.step}")

    def on_train_end(self, run) -> None:  # noqa: ANN001
        self.ended.append(run.out.name)


def test_callbacks_see_every_step_and_the_end(tmp_path: Path) -> None:
    rec = Recorder()
    out = launch([*TINY, f"runs_dir={tmp_path}", "name=r"], [], callbacks=[rec], show_progress=False)
    assert out == tmp_path / "r" and (out / "generator.safetensors").is_file()
    assert rec.steps == [("r", 1), ("r", 2), ("r", 3), ("r", 4)] and rec.ended == ["r"]


def test_init_self_passes_callbacks_to_both_stages(tmp_path: Path) -> None:
    rec = Recorder()
    launch([*TINY, "train.epochs=1", "init=self", "pretrain.steps=2", f"runs_dir={tmp_path}", "name=s"], [],
           callbacks=[rec], show_progress=False)
    assert rec.steps == [("pretrain", 1), ("pretrain", 2), ("s", 1), ("s", 2)]
    assert rec.ended == ["pretrain", "s"]


def test_a_callback_error_stops_the_run_and_keeps_its_folder(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="stopped at 3"):
        launch([*TINY, f"runs_dir={tmp_path}", "name=c"], [], callbacks=[Recorder(stop_at=3)], show_progress=False)
    assert (tmp_path / "c" / "config.yaml").is_file()
    assert (tmp_path / "c" / "checkpoints" / "latest.json").is_file()  # epoch 1's checkpoint
    assert not (tmp_path / "c" / "generator.safetensors").exists()


def test_callbacks_are_refused_with_torchrun(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="in-process callbacks cannot follow"):
        launch([*TINY, "launcher=torchrun", "devices=2", f"runs_dir={tmp_path}"], [], callbacks=[Recorder()])
