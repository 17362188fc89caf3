"""Downstream tasks through the CLI on the real-layout readers, fine-tuning and sweeps."""

from __future__ import annotations

from pathlib import Path

from emkit.engine.runs.metrics_log import read_metrics
from emkit.testing.fixtures import run_emkit

GEN = ["generator=unet", "generator.blocks=2", "generator.width=4"]
TRAIN = ["train.epochs=2", "train.batch_size=2", "train.device=cpu", "train.log_every=1"]


def emkit(*args: str, cwd: Path):
    return run_emkit(*args, cwd=cwd, check=True)


def test_tasks_on_real_layouts_and_finetuning(tmp_path):
    emkit("data", "synth", "stem", "--out", "stem", "--n", "10", "--size", "64", cwd=tmp_path)
    emkit("data", "synth", "hrtem", "--out", "au", "--n", "10", "--size", "64", cwd=tmp_path)
    # A pretext run provides the weights for init=.
    pre = emkit("run", "pretext=pix2pix", *GEN, "data=synthetic-cem", "data.size=64", "data.length=8",
                "data.val_length=2", "pretext.crop=32", "pretext.d_width=8", "train.epochs=1", "train.batch_size=4",
                "train.device=cpu", "name=pre", cwd=tmp_path)
    assert f"init={Path('runs') / 'pre'}" in pre.stdout and "segmentation started behind random init" in pre.stdout
    common = ["data.val_fraction=0.2", "data.test_fraction=0.2", "eval_epochs=[2]", *TRAIN]
    for task in ("denoise", "background-removal", "super-resolution"):
        tuned = emkit("run", f"task={task}", "data=temimagenet", "data.root=stem", "task.crop=32", "init=runs/pre",
                      f"name={task}", *common, cwd=tmp_path)
        assert "next: fine-tune" not in tuned.stdout  # the hint follows pretext runs only
    emkit("run", "task=segmentation", "data=au-hdf5", "data.root=au", "task.crop=48", *GEN,
          "name=seg", *common, cwd=tmp_path)
    for name, metric in (("denoise", "test_l1"), ("background-removal", "test_psnr"),
                         ("super-resolution", "test_ssim"), ("seg", "test_dice")):
        epochs = [r for r in read_metrics(tmp_path / "runs" / name / "metrics.csv") if r["kind"] == "epoch"]
        assert float(epochs[-1][metric]) == float(epochs[-1][metric])  # present and a number
    out = emkit("eval", "runs/seg", cwd=tmp_path).stdout
    assert "test_dice" in out and (tmp_path / "runs" / "seg" / "eval_test.json").exists()


def test_sweep_runs_product_skips_finished_and_reports(tmp_path):
    args = ["sweep", "task=denoise", "data=synthetic-stem", "data.size=64", "data.length=4", "data.val_length=2",
            "data.test_length=2", "task.crop=32", *GEN, "seed=0,1", "eval_epochs=[1]", "train.epochs=1",
            "train.batch_size=2", "train.device=cpu", "--name", "s"]
    first = emkit(*args, cwd=tmp_path)
    assert first.stdout.count("] task=denoise") == 2
    report = tmp_path / "runs" / "s" / "report" / "report.md"
    assert "| unet(blocks=2, width=4) | – | R (default init) | 4 |" in report.read_text()
    again = emkit(*args, cwd=tmp_path)
    assert again.stdout.count("done already") == 2
