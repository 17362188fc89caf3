"""emkit compare builds the paper-style table from run directories the test writes."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from emkit.cli.app import app
from emkit.engine.runs.metrics_log import MetricsLog
from emkit.report.compare import collect, markdown


def _run(root, name, init, seed, dice_by_epoch, blocks=2):
    path = root / name
    path.mkdir(parents=True)
    cfg = {"init": init, "seed": seed, "eval_epochs": [1, 2],
           "task": {"name": "segmentation"}, "generator": {"name": "unet", "blocks": blocks}}
    (path / "config.yaml").write_text(yaml.safe_dump(cfg))
    log = MetricsLog(path / "metrics.csv")
    for epoch, dice in dice_by_epoch.items():
        log.log("step", epoch, epoch * 10 - 5, {"loss": 1.0})
        log.log("epoch", epoch, epoch * 10, {"val_dice": dice - 0.01, "test_dice": dice})
    return path


def test_table_rows_and_seed_average(tmp_path):
    runs = [
        _run(tmp_path, "p0", "runs/pre", 0, {1: 0.6, 2: 0.8}),
        _run(tmp_path, "p1", "runs/pre", 1, {1: 0.7, 2: 0.9}),
        _run(tmp_path, "r0", "random", 0, {1: 0.3, 2: 0.5}),
        _run(tmp_path, "b0", "random", 0, {1: 0.2, 2: 0.4}, blocks=4),
    ]
    from emkit.report.runs import load_run

    rows = collect([load_run(p) for p in runs])
    cell = [r for r in rows if r["model"] == "unet(blocks=2)" and r["init"] == "P (pre)" and r["epoch"] == 2
            and r["metric"] == "dice"][0]
    assert abs(cell["mean"] - 0.85) < 1e-9 and cell["n"] == 2 and (cell["min"], cell["max"]) == (0.8, 0.9)
    md = markdown(rows)
    assert "| unet(blocks=2) | ? | P (pre) | all | 0.6500 ± 0.0707 [0.6000–0.7000] n=2 | 0.8500 ± 0.0707 [0.8000–0.9000] n=2 |" in md
    assert "| unet(blocks=4) | – | R (default init) | all |" in md  # no random_init recorded: the engine's default


def test_random_init_is_labelled_by_what_ran(tmp_path):
    """A task run's scheme (``task.random_init``; ``default`` when the task has no such field,
    as the engine applies it), a pretext run's generator init; never a guessed "pix2pix"."""
    from emkit.report.runs import load_run

    def labelled(name, config):
        path = tmp_path / name
        path.mkdir()
        (path / "config.yaml").write_text(yaml.safe_dump({"init": "random", **config}))
        return load_run(path).init_group

    assert labelled("k", {"task": {"name": "denoise", "random_init": "kaiming"}}) == "R (kaiming init)"
    assert labelled("p", {"task": {"name": "denoise", "random_init": "pix2pix"}}) == "R (pix2pix init)"
    assert labelled("third", {"task": {"name": "atom-localization"}}) == "R (default init)"
    assert labelled("pre", {"pretext": {"name": "pix2pix"}}) == "R (generator's own init)"
    assert labelled("pre2", {"pretext": {"name": "restore", "random_init": "default"}}) == "R (default init)"
    assert labelled("lab", {"task": {"name": "denoise"}, "init_label": "scratch"}) == "R (scratch)"


def test_cli_writes_report_and_plots(tmp_path):
    _run(tmp_path / "runs", "p0", "x", 0, {1: 0.6, 2: 0.8})
    _run(tmp_path / "runs", "r0", "random", 0, {1: 0.3, 2: 0.5})
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "runs"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").exists() and (out / "report.csv").exists()
    assert (out / "curves_segmentation_val_dice.png").stat().st_size > 1000


def test_the_identity_column_gets_no_table_or_pair(tmp_path):
    """``l1_identity`` (the input's own score) is equal for every run: no "paired P − R" of +0.0000."""
    from emkit.report.compare import paired
    from emkit.report.runs import load_run

    paths = []
    for name, init, l1 in (("p", "runs/pre", 0.05), ("r", "random", 0.07)):
        path = tmp_path / name
        path.mkdir()
        (path / "config.yaml").write_text(yaml.safe_dump({"init": init, "seed": 0, "eval_epochs": [1],
                                                          "task": {"name": "denoise"},
                                                          "generator": {"name": "unet", "blocks": 2}}))
        MetricsLog(path / "metrics.csv").log("epoch", 1, 10, {"test_l1": l1, "test_l1_identity": 0.0898})
        paths.append(path)
    runs = [load_run(p) for p in paths]
    rows, pairs = collect(runs), paired(runs)
    assert {r["metric"] for r in rows} == {"l1"} and {p["metric"] for p in pairs} == {"l1"}
    assert pairs[0]["mean_diff"] == pytest.approx(-0.02)
    md = markdown(rows, pairs)
    assert "l1_identity" not in md and "denoise: l1 ↓" in md
