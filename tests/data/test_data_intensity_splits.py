"""Normalisation modes, deterministic splits, nested limits, split files, problem logs."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from emkit.data.intensity import RunningStats, dataset_stats, make_rule, percentile_scale
from emkit.data.problems import ProblemLog, summarize
from emkit.data.splits import apply_limit, assign_split, select_split, unit_hash
from emkit.errors import DataError, EmkitError


def test_auto_keeps_uint8_and_scales_the_rest(rng):
    u8 = rng.integers(0, 256, (8, 8)).astype(np.uint8)
    assert make_rule("auto")(u8) is u8
    f = rng.normal(100, 5, (32, 32)).astype(np.float32)
    out = make_rule("auto")(f)
    assert out.dtype == np.float32 and out.min() == 0 and out.max() == 1
    u16 = rng.integers(0, 4096, (32, 32)).astype(np.uint16)
    assert make_rule("auto")(u16).dtype == np.float32


def test_fixed_scale_none_and_signed(rng):
    u16 = np.array([[0, 2048, 4095]], np.uint16)
    assert np.allclose(make_rule("fixed", scale=4095)(u16), [[0, 2048 / 4095, 1]])
    assert np.allclose(make_rule("fixed")(np.array([[0, 255]], np.uint8)), [[0, 1]])
    assert make_rule("none")(u16).dtype == np.uint16
    i16 = np.array([[-32768, 0, 32767]], np.int16)
    out = make_rule("none")(i16)
    assert out.dtype == np.float32 and out.min() == 0 and out.max() == 1


def test_percentile_clips_hot_pixels(rng):
    a = rng.random((100, 100)).astype(np.float32)
    a[0, 0] = 1e6
    out = percentile_scale(a, 0.5, 99.5)
    assert out.dtype == np.float32 and out.max() == 1.0 and np.median(out) == pytest.approx(0.5, abs=0.05)


def test_meanstd_uses_dataset_statistics(rng):
    imgs = [rng.normal(0.3, 0.05, (16, 16)).clip(0, 1).astype(np.float32) for _ in range(4)]
    mean, std = dataset_stats(imgs)
    n = make_rule("meanstd").with_stats(mean, std)
    out = n(imgs[0])
    assert abs(float(out.mean()) - 0.5) < 0.05 and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError):
        make_rule("meanstd")(imgs[0])
    with pytest.raises(ValueError):
        make_rule("percentile", low=50, high=10)


def test_running_stats_roundtrip():
    s = RunningStats()
    s.add(np.array([0.0, 1.0]))
    s.add(np.array([0.5]))
    t = RunningStats.from_dict(s.to_dict())
    assert t.mean == pytest.approx(0.5) and t.std == pytest.approx(np.std([0, 1, 0.5]))


def test_splits_are_deterministic_disjoint_and_cover():
    keys = [f"src{i % 3}/img_{i:04d}.tif" for i in range(2000)]
    parts = {s: select_split(keys, s, seed=0, val_fraction=0.1, test_fraction=0.2) for s in ("train", "val", "test")}
    assert sorted(sum(parts.values(), [])) == list(range(2000))
    assert abs(len(parts["test"]) / 2000 - 0.2) < 0.04 and abs(len(parts["val"]) / 2000 - 0.1) < 0.03
    assert select_split(keys, "val", seed=0, val_fraction=0.1, test_fraction=0.2) == parts["val"]
    assert select_split(keys, "val", seed=1, val_fraction=0.1, test_fraction=0.2) != parts["val"]
    # adding files does not move existing ones
    assert assign_split(keys[5], 0, 0.1, 0.2) == assign_split(keys[5], 0, 0.1, 0.2)
    assert 0 <= unit_hash("a", 0) < 1
    with pytest.raises(DataError, match="below 1"):
        select_split(keys, "train", val_fraction=0.6, test_fraction=0.5)


def test_limit_gives_nested_reproducible_subsets():
    keys = [f"k{i}" for i in range(1000)]
    idx = list(range(1000))
    small, big = apply_limit(idx, keys, 50, 0), apply_limit(idx, keys, 100, 0)
    assert len(small) == 50 and len(big) == 100 and set(small) <= set(big)
    assert small == sorted(small) and apply_limit(idx, keys, 50, 0) == small
    assert apply_limit(idx, keys, 50, 1) != small
    assert apply_limit(idx, keys, None, 0) == idx


def test_split_files(tmp_path):
    keys = ["a/1.tif", "a/2.tif", "b/3.tif"]
    (tmp_path / "train.txt").write_text("a/1.tif\n# comment\nb/3.tif\n")
    (tmp_path / "val.txt").write_text("2\n")
    assert select_split(keys, "train", split_files=str(tmp_path)) == [0, 2]
    assert select_split(keys, "val", split_files=str(tmp_path / "{split}.txt"), aliases=["1", "2", "3"]) == [1]
    (tmp_path / "test.txt").write_text("zzz\n")
    with pytest.raises(DataError, match="match no file"):
        select_split(keys, "test", split_files=str(tmp_path))
    with pytest.raises(DataError, match="cannot read"):
        select_split(keys, "test", split_files=str(tmp_path / "missing"))


def _add_from_child(log: ProblemLog) -> None:
    log.add("/data/child.tif", "constant image (every pixel is 0)")


def test_problem_log_sees_other_processes():
    log = ProblemLog()
    log.add("/data/a.tif", "empty file (0 bytes)")
    log.add("/data/a.tif", "empty file (0 bytes)")
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_add_from_child, args=(log,))
    p.start()
    p.join()
    items = log.items()
    assert ("/data/a.tif", "empty file (0 bytes)") in items and ("/data/child.tif", "constant image (every pixel is 0)") in items
    assert len(items) == 2
    text = summarize(items + [("/data/b.tif", "12 NaN/non-finite pixel values")])
    assert text.startswith("3 files skipped") and "empty file" in text and "NaN" in text


def test_one_config_type_for_datasets_and_predict():
    from emkit.data.filedataset import FileConfig
    from emkit.data.intensity import IntensityConfig, MeanStdRule, PercentileRule, resolve_for_prediction

    cfg = FileConfig(normalize="percentile", percentile_low=2.0, percentile_high=98.0)
    assert isinstance(cfg, IntensityConfig) and cfg.rule() == PercentileRule(2.0, 98.0)
    saved = {"normalize": "meanstd", "mean": 0.4, "std": 0.1, "scale": 4095, "root": "/x"}
    assert IntensityConfig.from_mapping(saved).rule() == MeanStdRule(0.4, 0.1, 4095)
    assert resolve_for_prediction("run", saved) == MeanStdRule(0.4, 0.1, 4095)
    with pytest.raises(EmkitError, match=r"data.mean recorded as 'high'; expected a number"):
        IntensityConfig.from_mapping({"normalize": "meanstd", "mean": "high"})


def test_fit_then_apply_equals_whole_array_and_keeps_precision_on_offsets(rng):
    from emkit.data.intensity import make_rule

    far = (1000.0 + rng.random((64, 64))).astype(np.float32)  # data on a large offset
    rule = make_rule("percentile", low=0.0, high=100.0)
    whole = rule(far)
    scaling = rule.fit(far.dtype, lambda limit: far.reshape(-1))
    tiles = np.concatenate([scaling(far[:32]), scaling(far[32:])])
    assert np.array_equal(whole, tiles)
    exact = (far.astype(np.float64) - far.min()) / (float(far.max()) - float(far.min()))
    assert np.abs(whole - exact).max() < 1e-6


INTEGER_TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64]


def _full_range_image(dtype, rng):
    """A 16x16 image of ``dtype`` holding its minimum, its maximum and values between."""
    info = np.iinfo(dtype)
    inner = [min(int(v), int(info.max)) for v in np.linspace(float(info.min), float(info.max), 256)[1:-1]]
    img = np.array([int(info.min), *inner, int(info.max)], dtype=dtype)
    return rng.permutation(img).reshape(16, 16)


def _expected_unit(arr):
    info = np.iinfo(arr.dtype)
    return ((arr.astype(np.float64) - float(info.min)) / (float(info.max) - float(info.min))).astype(np.float32)


@pytest.mark.parametrize("mode", ["none", "fixed"])
@pytest.mark.parametrize("dtype", INTEGER_TYPES, ids=lambda d: np.dtype(d).name)
def test_training_and_predict_map_every_integer_type_by_its_range(rng, mode, dtype):
    """Datasets (``rule(arr)``, then the engine's ``to_unit``) and predict (``rule.fit`` per
    image) give the same [0, 1] values: the type's minimum at 0 and its maximum at 1."""
    import torch

    from emkit.plugin_api import to_unit

    arr = _full_range_image(dtype, rng)
    rule = make_rule(mode)
    training = to_unit(torch.from_numpy(np.ascontiguousarray(rule(arr)))).numpy()
    predict = rule.fit(arr.dtype, lambda limit: arr.reshape(-1))(arr)
    expected = _expected_unit(arr)
    np.testing.assert_allclose(training, expected, rtol=0, atol=1e-7)
    np.testing.assert_allclose(predict, expected, rtol=0, atol=1e-7)
    assert training[arr == np.iinfo(dtype).min].max() == 0.0 and training[arr == np.iinfo(dtype).max].min() == 1.0


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_none_maps_signed_images_by_type_not_by_content(rng, dtype):
    """Two images of one signed dataset get the same map whether or not they hold a negative pixel."""
    positive = rng.integers(0, 100, (8, 8)).astype(dtype)
    with_negative = positive.copy()
    with_negative[0, 0] = -5
    a, b = make_rule("none")(positive), make_rule("none")(with_negative)
    np.testing.assert_array_equal(a[1:], b[1:])
    np.testing.assert_allclose(a, _expected_unit(positive), rtol=0, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.uint32, np.int32, np.int64])
def test_none_reads_16_bit_counts_in_wide_integers_as_uint16(rng, dtype):
    counts = rng.integers(0, 4096, (8, 8)).astype(dtype)
    out = make_rule("none")(counts)
    assert out.dtype == np.uint16 and np.array_equal(out, counts)
    fitted = make_rule("none").fit(counts.dtype, lambda limit: counts.reshape(-1))(counts)
    np.testing.assert_allclose(fitted, counts / 65535.0, rtol=0, atol=1e-7)


def test_meanstd_statistics_use_the_same_unit_map(rng):
    arr = rng.integers(-32768, 32767, (32, 32)).astype(np.int16)
    mean, std = dataset_stats([arr])
    unit = _expected_unit(arr).astype(np.float64)
    assert mean == pytest.approx(unit.mean(), abs=1e-6) and std == pytest.approx(unit.std(), abs=1e-6)
    out = make_rule("meanstd").with_stats(mean, std)(arr)
    assert float(out.mean()) == pytest.approx(0.5, abs=1e-3)
