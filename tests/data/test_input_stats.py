"""The training inputs' statistics: what the numbers measure, the file, and the out-of-distribution check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emkit.data.build import build_dataset
from emkit.data.input_stats import InputStats, array_features, collect_stats, compare, load_stats, write_stats
from emkit.data.input_stats.compare import LIMIT
from emkit.data.input_stats.record import _unit_image
from emkit.errors import DataError


def test_noise_level_is_the_sigma_of_white_noise_on_structure():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256]
    smooth = 0.5 + 0.2 * np.sin(2 * np.pi * x / 40) * np.cos(2 * np.pi * y / 55)
    for sigma in (0.01, 0.05):
        f = array_features(smooth + rng.normal(0, sigma, smooth.shape))
        assert f.noise == pytest.approx(sigma, rel=0.08)
    assert array_features(smooth).noise < 0.002  # structure alone is not noise


def test_dominant_period_histogram_and_peaks_follow_the_image():
    y, x = np.mgrid[0:300, 0:260]
    lattice = 0.5 + 0.4 * np.cos(2 * np.pi * x / 10.0) * np.cos(2 * np.pi * y / 10.0)
    f = array_features(lattice)
    assert f.period == pytest.approx(10 / np.sqrt(2), rel=0.1)  # cos·cos: Bragg spots at |f| = √2/10
    assert sum(f.hist) == pytest.approx(1.0)
    assert f.median == pytest.approx(np.median(lattice), abs=1 / 32 + 1e-9)  # within a histogram bin
    texture = np.random.default_rng(1).random((300, 260))
    assert f.peak > array_features(texture).peak + 1.0  # a lattice has spectral peaks, noise none
    assert np.isnan(array_features(np.full((64, 64), 0.5)).period)  # nothing above the noise floor


def test_the_file_round_trips_and_bad_files_are_one_line(tmp_path):
    ds = build_dataset("synthetic-cem", {"size": 64, "length": 6}, "train")
    path = write_stats(tmp_path, ds, source="synthetic-cem (train split)")
    assert path == tmp_path / "input_stats.json" and path.stat().st_size < 20_000
    stats = load_stats(tmp_path)
    again = collect_stats(ds)
    assert len(stats.features) == 6 and stats.source == "synthetic-cem (train split)"
    assert [f.noise for f in stats.features] == pytest.approx([f.noise for f in again.features], rel=1e-3)
    assert load_stats(tmp_path / "missing") is None
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="bad.json: cannot read input statistics"):
        load_stats(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataError, match="not an emkit input-statistics file"):
        load_stats(tmp_path / "other.json")


def family(name: str, count: int, size: int = 256) -> list:
    ds = build_dataset(name, {"seed": 0, "test_length": count, "size": size}, "test")
    return [array_features(_unit_image(ds[i]["image"])) for i in range(count)]


@pytest.mark.parametrize(("train", "other"), [("synthetic-cem", "synthetic-stem"),
                                              ("synthetic-stem", "synthetic-hrtem")])
def test_another_family_warns_and_held_out_images_of_the_same_family_do_not(train, other):
    """Seed 0: statistics of 96 training images; 8 held-out images of each family (test split)."""
    stats = collect_stats(build_dataset(train, {"seed": 0, "length": 2000}, "train"))
    held_out = [compare(stats, f) for f in family(train, 8)]
    foreign = [compare(stats, f) for f in family(other, 8)]
    assert not any(c.outside for c in held_out), [round(c.ratio, 2) for c in held_out]
    assert all(c.outside for c in foreign), [round(c.ratio, 2) for c in foreign]
    worst = max(foreign, key=lambda c: c.ratio)
    line = worst.summary()
    assert line.startswith(f"unlike the model's training inputs (distance {worst.ratio:.1f}x the usual, "
                           f"limit {LIMIT:g}x)")
    assert ", most in " in line and "; training " in line and "\n" not in line
    assert sum(worst.shares.values()) == pytest.approx(1.0)


def test_pixel_size_outside_the_training_range_warns():
    ds = build_dataset("synthetic-cem", {"size": 64, "length": 4}, "train")
    stats = collect_stats(ds)
    stats = InputStats(stats.features, "x", (0.2, 0.25))
    same = stats.features[0]
    assert not compare(stats, same, 0.22).outside
    far = compare(stats, same, 1.0)
    assert far.outside and far.reasons()[0] == "pixel size 1 nm (training 0.2-0.25 nm, 4.0x larger)"
    assert not compare(stats, same, None).outside  # unknown pixel size: not compared
