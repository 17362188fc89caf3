"""End-to-end training: a pix2pix run through the CLI, resume after SIGKILL, DDP on 2 CPUs (the
latter two through ``emkit.train`` with test callbacks in a subprocess, ``fault_callbacks``).

Everything is tiny (U-Net width 4, 32-pixel crops, 64-pixel synthetic images) so the
file runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch
import yaml
from fault_callbacks import run_driver
from safetensors.torch import load_file

from emkit.engine.runs.metrics_log import read_metrics
from emkit.testing.fixtures import run_emkit

TINY = [
    "pretext=pix2pix", "generator=unet", "generator.blocks=2", "generator.width=4",
    "pretext.crop=32", "pretext.d_width=8",
    "data=synthetic-cem", "data.size=64", "data.length=16", "data.val_length=4", "data.test_length=4",
    "train.batch_size=4", "train.log_every=1", "train.device=cpu",
    "train.steps_per_epoch=null",  # one pass (pix2pix's default of 60 steps would repeat the 16 images)
]


def emkit(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 300):
    return run_emkit("run", *args, cwd=cwd, env=env, timeout=timeout)


def only_run(runs: Path) -> Path:
    dirs = [p for p in runs.iterdir() if p.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_pix2pix_run_writes_everything(tmp_path):
    proc = emkit([*TINY, "train.epochs=2"], tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    run = only_run(tmp_path / "runs")
    assert run.name.endswith("-pix2pix-unet")
    for name in ("config.yaml", "metrics.csv", "generator.safetensors", "generator.json",
                 "samples/epoch_001.png", "samples/epoch_002.png", "checkpoints/latest.json"):
        assert (run / name).exists(), name
    rows = read_metrics(run / "metrics.csv")
    epochs = [r for r in rows if r["kind"] == "epoch"]
    steps = [r for r in rows if r["kind"] == "step"]
    assert len(epochs) == 2 and len(steps) == 8
    assert float(epochs[-1]["val_l1"]) > 0 and float(epochs[-1]["val_l1_identity"]) > 0
    assert 0 <= float(steps[0]["data_time_frac"]) <= 1 and float(steps[0]["images_per_s"]) > 0
    spec = json.loads((run / "generator.json").read_text())
    assert spec["name"] == "unet" and spec["config"]["width"] == 4
    # train.channels_last was left unset (auto): config.yaml records what ran on the CPU
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["channels_last"] is True
    # the training inputs' statistics, for predict's out-of-distribution check: the train split's 16 images
    from emkit.data.build import build_dataset
    from emkit.data.input_stats import collect_stats, load_stats

    stats = load_stats(run)
    assert stats.source == "synthetic-cem (train split)" and len(stats.features) == 16
    expected = collect_stats(build_dataset("synthetic-cem", {"size": 64, "length": 16}, "train"))
    assert [f.noise for f in stats.features] == pytest.approx([f.noise for f in expected.features], rel=1e-3)


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "generator.safetensors"))


def test_resume_after_sigkill_matches_uninterrupted(tmp_path):
    args = [*TINY, "train.epochs=2", "train.deterministic=true", "train.checkpoint_every=2", "seed=5"]
    straight = tmp_path / "straight"
    straight.mkdir()
    assert emkit(args, straight).returncode == 0
    reference = _final_weights(only_run(straight / "runs"))

    killed = tmp_path / "killed"
    killed.mkdir()
    # Killed after step 5 of 8 (mid-epoch 2); the newest checkpoint is from step 4.
    proc = run_driver(args, killed, kill_at=5)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    run = only_run(killed / "runs")
    assert not (run / "generator.safetensors").exists()
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["step"] == 4
    resumed = emkit([f"resume={run}"], killed)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "resuming" in resumed.stdout
    final = _final_weights(run)
    assert final.keys() == reference.keys()
    for key in reference:
        assert torch.equal(final[key], reference[key]), key
    steps = [int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"]
    assert steps == sorted(set(steps)) and steps[-1] == 8


def test_ddp_two_cpu_processes_agree(tmp_path):
    dump = tmp_path / "ranks"
    proc = run_driver([*TINY, "train.epochs=1"], tmp_path, dump=dump, nproc=2, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    r0, r1 = load_file(str(dump / "rank0.safetensors")), load_file(str(dump / "rank1.safetensors"))
    assert r0.keys() == r1.keys()
    for key in r0:
        assert torch.equal(r0[key], r1[key]), key
    run = only_run(tmp_path / "runs")
    exported = _final_weights(run)
    assert all(torch.equal(exported[k], r0[k]) for k in r0)
    from emkit.data.input_stats import load_stats

    assert len(load_stats(run).features) == 16  # rank 0 wrote the whole train split's statistics
    # 16 samples / 2 ranks / batch 4 = 2 steps per epoch; only rank 0 logged.
    steps = [r for r in read_metrics(run / "metrics.csv") if r["kind"] == "step"]
    assert len(steps) == 2


def test_bad_keys_fail_before_training(tmp_path):
    proc = emkit([*TINY, "train.epochz=3"], tmp_path)
    assert proc.returncode == 2
    assert "Unknown config key 'train.epochz'" in proc.stderr
    assert not (tmp_path / "runs").exists()
