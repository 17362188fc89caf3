"""``init=self``: the pretext stage on the task's own train images, then fine-tuning, resumable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emkit.config import resolve
from emkit.engine.launch import self_pretrain
from emkit.engine.runs.metrics_log import read_metrics
from emkit.errors import ConfigError

TINY = ["task=background-removal", "data=synthetic-stem", "data.size=64", "data.length=6", "data.val_length=2",
        "data.test_length=2", "task.crop=32", "generator=unet", "generator.blocks=2", "generator.width=4",
        "train.epochs=2", "train.batch_size=2", "train.device=cpu", "eval_epochs=[2]"]


def _steps(run: Path) -> list[int]:
    return [int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"]


def test_default_steps_scale_with_the_data():
    assert self_pretrain.default_steps(24, 8) == self_pretrain.MIN_STEPS
    assert self_pretrain.default_steps(320, 8) == 800
    assert self_pretrain.default_steps(10**6, 8) == self_pretrain.MAX_STEPS


def test_pretext_stage_config(tmp_path):
    import numpy as np
    import tifffile

    (tmp_path / "lab").mkdir()
    for i in range(3):
        tifffile.imwrite(tmp_path / "lab" / f"{i}.tif", np.random.default_rng(i).integers(0, 255, (50, 70), np.uint8))
    lab = f"folder:{tmp_path / 'lab'}"
    cfg = resolve([*TINY, "init=self", f"pretrain.data=[synthetic-cem,{lab}]", "pretrain.weights=[2,1,1]"])
    assert self_pretrain.wanted(cfg)
    pcfg = self_pretrain.pretext_config(cfg, tmp_path)
    data = pcfg.plugin_config("data")
    # the task's dataset with its options, pinned to its train split, then the extra sources
    assert data.sources[0]["name"] == "synthetic-stem" and data.sources[0]["split"] == "train"
    assert data.sources[0]["length"] == 6 and data.sources[1:] == ["synthetic-cem", lab]
    assert data.weights == [2.0, 1.0, 1.0] and data.test_length == 0 and data.val_length == 32
    assert pcfg.plugin_config("pretext").crop == 32 and data.size == 40  # the task's crop, room to rotate
    assert pcfg.plugin_name("generator") == "unet" and pcfg.plugin_config("generator").width == 4
    assert pcfg.train.steps_per_epoch == self_pretrain.default_steps(6 + 2000 + 3, 8) and pcfg.train.epochs == 1
    assert data.length == pcfg.train.steps_per_epoch * pcfg.train.batch_size
    assert pcfg.train.device == "cpu" and Path(pcfg.run.runs_dir) == tmp_path and pcfg.run.name == "pretrain"
    own = self_pretrain.pretext_config(resolve([*TINY, "init=self", "pretrain.steps=7",
                                                "pretrain.pretext.crop=48"]), tmp_path)
    assert own.train.steps_per_epoch == 7 and own.plugin_config("pretext").crop == 48


def test_one_folder_source_by_dotted_keys():
    cfg = resolve([*TINY, "init=self", "pretrain.data=folder", "pretrain.data.root=/data/lab"])
    assert cfg.run.pretrain.data == [{"name": "folder", "root": "/data/lab"}]


def test_bad_weights_and_unused_settings(tmp_path, capsys):
    cfg = resolve([*TINY, "init=self", "pretrain.weights=[1,2]"])
    with pytest.raises(ConfigError, match="2 values for 1 sources"):
        self_pretrain.pretext_config(cfg, tmp_path)
    # a sweep over init=random,self shares pretrain.* keys: the random runs warn, not fail
    assert not self_pretrain.wanted(resolve([*TINY, "pretrain.steps=5"]))
    assert "pretrain.* is ignored" in capsys.readouterr().err


def test_refuses_a_pretext_run_and_several_devices():
    cfg = resolve(["pretext=pix2pix", "data=synthetic-cem", "init=self"])
    with pytest.raises(ConfigError, match="choose task="):
        self_pretrain.wanted(cfg)
    with pytest.raises(ConfigError, match="one device"):
        self_pretrain.wanted(resolve([*TINY, "init=self", "launcher=torchrun", "devices=2"]))


def test_end_to_end_and_stage_skip(tmp_path, monkeypatch):
    from emkit.engine.init import generator_init
    from emkit.engine.launch.start import launch

    loaded = []
    real = generator_init.load_pretrained
    monkeypatch.setattr(generator_init, "load_pretrained", lambda init, *a: loaded.append(init) or real(init, *a))
    run = launch([*TINY, "init=self", "pretrain.steps=4", f"runs_dir={tmp_path}", "name=own"], [])
    pre = run / "pretrain"
    assert run == tmp_path / "own" and (pre / "generator.safetensors").exists()
    assert (run / "generator.safetensors").exists() and loaded == [str(pre)]
    assert _steps(pre)[-1] == 4 and _steps(run)[-1] == 6  # 3 steps per epoch x 2
    first = _steps(run)
    assert "init: self" in (run / "config.yaml").read_text()
    # train.norm_stats was unset: the run records what it did (restoration keeps pretrained statistics)
    assert "norm_stats: frozen" in (run / "config.yaml").read_text()
    assert "channels_last: true" in (run / "config.yaml").read_text()
    assert (pre / "samples" / "epoch_001.png").exists()  # validated on the task's training images

    # fine-tuning lost before its first checkpoint: the finished pretext stage is kept
    stamp = (pre / "generator.safetensors").stat().st_mtime_ns
    for path in [run / "generator.safetensors", *(run / "checkpoints").iterdir()]:
        path.unlink()
    loaded.clear()
    again = launch([f"resume={run}"], [])
    assert again == run and (pre / "generator.safetensors").stat().st_mtime_ns == stamp
    assert loaded == [str(pre)] and _steps(run) == first  # the lost attempt's rows are not kept twice


def _emkit(args, cwd, kill_at=None):
    from fault_callbacks import run_driver

    if kill_at is not None:
        return run_driver(args[1:], cwd, kill_at=kill_at)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "emkit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.slow
def test_killed_in_either_stage_resumes(tmp_path):
    # killed at step 3 of the pretext stage (8 steps, a checkpoint every 2)
    args = ["run", *TINY, "init=self", "pretrain.steps=8", "train.checkpoint_every=2", "name=k"]
    dead = _emkit(args, tmp_path, kill_at=3)
    run, pre = tmp_path / "runs" / "k", tmp_path / "runs" / "k" / "pretrain"
    assert dead.returncode != 0 and (pre / "checkpoints" / "latest.json").exists()
    assert not (pre / "generator.safetensors").exists() and not (run / "checkpoints" / "latest.json").exists()
    done = _emkit(["run", f"resume={run}"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming the pretext stage" in done.stdout and _steps(pre)[-1] == 8
    assert (run / "generator.safetensors").exists()

    # killed during fine-tuning (the pretext stage of 2 steps never reaches step 3)
    args = ["run", *TINY, "init=self", "pretrain.steps=2", "train.checkpoint_every=2", "name=f"]
    dead = _emkit(args, tmp_path, kill_at=3)
    run = tmp_path / "runs" / "f"
    assert dead.returncode != 0 and (run / "pretrain" / "generator.safetensors").exists()
    assert (run / "checkpoints" / "latest.json").exists() and not (run / "generator.safetensors").exists()
    done = _emkit(["run", f"resume={run}"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "already finished" in done.stdout and "resuming" in done.stdout
    assert _steps(run)[-1] == 6 and (run / "generator.safetensors").exists()


def test_sweep_with_self_and_compare_group(tmp_path):
    from emkit.engine.launch.sweep import sweep
    from emkit.report import write_report

    paths = sweep([*TINY, "train.epochs=1", "eval_epochs=[1]", "init=random,self", "pretrain.steps=2"], [],
                  name="s", runs_dir=str(tmp_path))
    text = write_report(paths, tmp_path / "s" / "report").read_text()
    assert "| P (self) |" in text and "| R (" in text  # its own init group, paired against random
    assert len(paths) == 2 and [(p / "pretrain" / "generator.safetensors").exists() for p in paths] == [False, True]
