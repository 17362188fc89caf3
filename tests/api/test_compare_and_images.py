"""``emkit.compare`` (the CLI's tables as data) and ``read_image`` / ``synthesize``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

import emkit
from emkit.errors import EmkitError
from emkit.testing.fixtures import one_thread, run_emkit  # noqa: F401 (one_thread: autouse)

TINY = ["task=segmentation", "data=synthetic-hrtem", "generator=unet", "generator.blocks=2", "generator.width=4",
        "train.batch_size=4", "train.device=cpu", "train.epochs=1", "data.size=64", "data.length=8",
        "data.val_length=2", "data.test_length=2", "task.crop=32", "eval_epochs=[1]"]


def test_compare_equals_the_cli_report(tmp_path: Path) -> None:
    runs = emkit.sweep(*TINY, "seed=0,1", name="s", runs_dir=str(tmp_path))
    assert len(runs) == 2 and all(r.finished for r in runs)
    table = emkit.compare(tmp_path / "s")
    dice = [r for r in table.rows if r["metric"] == "dice" and r["epoch"] == 1]
    assert len(dice) == 1 and dice[0]["n"] == 2 and dice[0]["min"] <= dice[0]["mean"] <= dice[0]["max"]
    assert {b["name"] for b in table.baselines} >= {"all background"}
    proc = run_emkit("compare", str(tmp_path / "s"), "--out", str(tmp_path / "cli"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert table.to_markdown() == (tmp_path / "cli" / "report.md").read_text()
    figures = table.figures(tmp_path / "figs")
    assert figures and all(p.suffix == ".png" for p in figures)
    assert emkit.compare(runs).rows == table.rows


def test_compare_without_runs_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="No run directories"):
        emkit.compare(tmp_path)


def test_read_image_returns_pixels_and_pixel_size(tmp_path: Path) -> None:
    image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
    tifffile.imwrite(tmp_path / "a.tif", image, resolution=(1e7 / 2.5, 1e7 / 2.5), resolutionunit="CENTIMETER")
    read = emkit.read_image(tmp_path / "a.tif")
    np.testing.assert_array_equal(read.array, image)
    assert read.format == "tiff" and read.pixel_size_nm == pytest.approx((2.5, 2.5))
    assert ".tif" in emkit.IMAGE_SUFFIXES and ".png" in emkit.IMAGE_SUFFIXES and ".png" not in emkit.EM_SUFFIXES


def test_synthesize_matches_the_synthetic_datasets() -> None:
    from emkit.data.build import build_dataset

    data = emkit.synthesize("hrtem", 2, size=64, seed=3, split="val")
    assert data.image.shape == data.mask.shape == (2, 64, 64) and data.pixel_nm.shape == (2,)
    sample = build_dataset("synthetic-hrtem", {"size": 64, "seed": 3}, "val", "segmentation")[1]
    np.testing.assert_array_equal(sample["mask"].numpy()[0], data.mask[1])
    again = emkit.synthesize("hrtem", 2, size=64, seed=3, split="val")
    np.testing.assert_array_equal(again.image, data.image)
    stem = emkit.synthesize("stem", 1, size=64)
    assert stem.target is not None and stem.clean is not None and stem.image.dtype == np.float32
    with pytest.raises(EmkitError, match="unknown kind 'tem'"):
        emkit.synthesize("tem", 1)
