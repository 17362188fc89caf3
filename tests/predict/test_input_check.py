"""``emkit predict`` compares every image with the run's training inputs: one line per image outside."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

from emkit.data.build import build_dataset
from emkit.data.input_stats import array_features, write_stats
from emkit.data.intensity import Scaling
from emkit.predict.input_check import CSV_FILE, source_features
from emkit.predict.inputs.sources import open_source

from run_support import needs_unet, run_cli

SMALL = {"blocks": 2, "width": 4}


def write_family(folder, name: str, count: int, seed: int = 0) -> list:
    ds = build_dataset(name, {"seed": seed, "test_length": count}, "test")
    paths = []
    for i in range(count):
        paths.append(folder / f"{name.split('-')[1]}{i}.tif")
        tifffile.imwrite(paths[-1], ds[i]["image"].numpy()[0])
    return paths


def test_predict_describes_an_image_as_training_does(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (300, 410), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image)
    with open_source(tmp_path / "a.tif", 1) as source:
        seen = source_features(source, 0, Scaling(pre=255.0))
    expected = array_features(image / np.float32(255))
    assert seen.hist == pytest.approx(expected.hist) and seen.noise == pytest.approx(expected.noise)
    assert seen.bands == pytest.approx(expected.bands) and seen.peaks == pytest.approx(expected.peaks)


@needs_unet
def test_one_warning_per_image_unlike_the_training_inputs(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    write_stats(run, build_dataset("synthetic-cem", {"seed": 0, "length": 2000}, "train"))
    inputs = write_family(tmp_path, "synthetic-cem", 2) + write_family(tmp_path, "synthetic-stem", 1)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["predict", str(run), *map(str, inputs), "--out", str(out), "-q"], capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "unlike the model's training inputs" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ") and "stem0.tif" in warnings[0], err
    assert ", most in " in warnings[0] and "; training " in warnings[0]
    rows = list(csv.DictReader((out / CSV_FILE).open()))
    assert [(r["file"].rsplit("/", 1)[-1], r["status"]) for r in rows] == [
        ("cem0.tif", "ok"), ("cem1.tif", "ok"), ("stem0.tif", "outside")]
    assert float(rows[2]["distance"]) > 1.5 > float(rows[0]["distance"]) and rows[2]["note"] in warnings[0]
    assert str(out / CSV_FILE) in stdout.split()
    # one image: the warning, no CSV
    code, _, err = run_cli(["predict", str(run), str(inputs[2]), "--out", str(tmp_path / "one"), "-q"], capsys)
    assert code == 0 and err.count("unlike the model's training inputs") == 1
    assert not (tmp_path / "one" / CSV_FILE).exists()


@needs_unet
def test_runs_without_statistics_are_predicted_with_one_note(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    inputs = write_family(tmp_path, "synthetic-stem", 2)
    code, _, err = run_cli(["predict", str(run), *map(str, inputs), "--out", str(tmp_path / "o"), "-q"], capsys)
    assert code == 0, err
    assert err.count("cannot compare inputs with the training data") == 1
    assert "has no input_stats.json (runs trained before emkit recorded input statistics" in err
    assert not (tmp_path / "o" / CSV_FILE).exists()
    (run / "input_stats.json").write_text("{broken")
    code, _, err = run_cli(["predict", str(run), *map(str, inputs), "--out", str(tmp_path / "p"), "-q"], capsys)
    assert code == 0 and err.count("cannot compare inputs with the training data") == 1
    assert "cannot read input statistics" in err
