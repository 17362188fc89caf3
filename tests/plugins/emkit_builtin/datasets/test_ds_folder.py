"""The ``folder`` dataset: CEM500K layout, splits, limits, balancing, stacks, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from emkit.errors import DataError


@pytest.fixture
def cem_tree(tmp_path, noise_image):
    """Two sources: a/ with 30 images, b/ with 6, all 224x224 uint8 TIFFs."""
    for src, n in (("a", 30), ("b", 6)):
        (tmp_path / src).mkdir()
        for i in range(n):
            tifffile.imwrite(tmp_path / src / f"{i:03d}.tif", noise_image((24, 24)))
    return tmp_path


def test_reads_recursively_as_uint8(build, cem_tree):
    ds = build("folder", root=str(cem_tree), val_fraction=0.0)
    assert len(ds) == 36
    s = ds[0]
    assert s["image"].shape == (1, 24, 24) and s["image"].dtype == torch.uint8 and s["source"] == "a/000.tif"
    loader = torch.utils.data.DataLoader(ds, batch_size=8)
    assert next(iter(loader))["image"].shape == (8, 1, 24, 24)


def test_splits_are_disjoint_and_limit_nests(build, cem_tree):
    parts = {s: {ds[i]["source"] for i in range(len(ds))}
             for s, ds in ((s, build("folder", split=s, root=str(cem_tree), val_fraction=0.2, test_fraction=0.2))
                           for s in ("train", "val", "test"))}
    assert not (parts["train"] & parts["val"]) and not (parts["train"] & parts["test"])
    assert sum(len(p) for p in parts.values()) == 36
    small = build("folder", root=str(cem_tree), val_fraction=0.0, limit=5)
    big = build("folder", root=str(cem_tree), val_fraction=0.0, limit=10)
    srcs = lambda d: {d[i]["source"] for i in range(len(d))}  # noqa: E731
    assert len(small) == 5 and srcs(small) <= srcs(big)


def test_balance_sources(build, cem_tree):
    ds = build("folder", root=str(cem_tree), val_fraction=0.0, balance_sources=True)
    firsts = [ds[i]["source"].split("/")[0] for i in range(len(ds))]
    assert firsts.count("a") == firsts.count("b") == 18


def test_size_crop_pad_and_normalize(build, tmp_path, noise_image):
    tifffile.imwrite(tmp_path / "big.tif", noise_image((40, 50), np.uint16))
    tifffile.imwrite(tmp_path / "small.tif", noise_image((10, 12), np.uint16))
    ds = build("folder", root=str(tmp_path), val_fraction=0.0, size=32)
    shapes = {tuple(ds[i]["image"].shape) for i in range(len(ds))}
    assert shapes == {(1, 32, 32)} and ds[0]["image"].dtype == torch.float32  # uint16 -> percentile
    raw = build("folder", root=str(tmp_path), val_fraction=0.0, size=32, normalize="none")
    assert raw[0]["image"].dtype == torch.uint16
    ms = build("folder", root=str(tmp_path), val_fraction=0.0, size=32, normalize="meanstd")
    assert 0.3 < float(ms[0]["image"].mean()) < 0.7


def test_stacks_all_slices_and_first(build, tmp_path, noise_image):
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([noise_image((16, 16)) for _ in range(4)]), photometric="minisblack")
    tifffile.imwrite(tmp_path / "one.tif", noise_image((16, 16)))
    assert len(build("folder", root=str(tmp_path), val_fraction=0.0, stacks="all")) == 5
    assert len(build("folder", root=str(tmp_path), val_fraction=0.0, stacks="first")) == 2
    ds = build("folder", root=str(tmp_path), val_fraction=0.0, stacks="all")
    assert {ds[i]["source"] for i in range(5)} >= {"stack.tif#0", "stack.tif#3"}


@pytest.fixture
def damaged_tree(tmp_path, noise_image):
    for i in range(6):
        tifffile.imwrite(tmp_path / f"good{i}.tif", noise_image((16, 16)))
    (tmp_path / "empty.tif").write_bytes(b"")
    (tmp_path / "trunc.tif").write_bytes((tmp_path / "good0.tif").read_bytes()[:200])
    (tmp_path / "text.png").write_text("hello")
    tifffile.imwrite(tmp_path / "const.tif", np.zeros((16, 16), np.uint8))
    nan = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    nan[0, 0] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", nan)
    import h5py

    with h5py.File(tmp_path / "rank.h5", "w") as fh:  # 3 channels: not a single 2-D image
        fh["images"] = noise_image((2, 3, 16, 16))
    return tmp_path


BAD = {"empty.tif": "empty", "trunc.tif": "truncated", "text.png": "not an image", "const.tif": "constant",
       "nan.tif": "NaN", "rank.h5": "wrong rank"}


def test_on_error_raise_names_file_and_problem(build, damaged_tree):
    ds = build("folder", root=str(damaged_tree), val_fraction=0.0, stacks="first")
    errors = []
    for i in range(len(ds)):
        try:
            ds[i]
        except DataError as exc:
            errors.append(str(exc))
    assert len(errors) == len(BAD)
    for name, word in BAD.items():
        assert any(name in e and word in e for e in errors), (name, errors)


def test_on_error_skip_reports_every_bad_file(build, damaged_tree):
    ds = build("folder", root=str(damaged_tree), val_fraction=0.0, stacks="first", on_error="skip")
    seen = [ds[i]["source"] for i in range(len(ds))]
    assert all(s.startswith("good") for s in seen)
    problems = dict((p.split("/")[-1], r) for p, r in ds.problems())
    assert set(problems) == set(BAD)
    for name, word in BAD.items():
        assert word in problems[name]


def test_verify_drops_bad_files_up_front(build, damaged_tree):
    ds = build("folder", root=str(damaged_tree), val_fraction=0.0, stacks="first", on_error="skip", verify=True)
    assert len(ds) == 6 and len(ds.problems()) == len(BAD)


def test_problems_from_dataloader_workers_reach_the_main_process(build, damaged_tree):
    ds = build("folder", root=str(damaged_tree), val_fraction=0.0, stacks="first", on_error="skip")
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="fork")
    batches = list(loader)
    assert sum(b["image"].shape[0] for b in batches) == len(ds)
    assert len(ds.problems()) == len(BAD)


def test_missing_root_messages(build, tmp_path):
    with pytest.raises(DataError, match="data.root is not set"):
        build("folder")
    with pytest.raises(DataError, match="does not exist"):
        build("folder", root=str(tmp_path / "nope"))
    with pytest.raises(DataError, match="no usable images"):
        build("folder", root=str(tmp_path))


def test_mixed_sizes_need_a_size(build, tmp_path, noise_image):
    tifffile.imwrite(tmp_path / "a.tif", noise_image((16, 16)))
    tifffile.imwrite(tmp_path / "b.tif", noise_image((20, 16)))
    ds = build("folder", root=str(tmp_path), val_fraction=0.0)
    ds[0]
    with pytest.raises(DataError, match=r"b.tif: size 16x20 differs.*data.size"):
        ds[1]
    assert len(build("folder", root=str(tmp_path), val_fraction=0.0, on_error="skip", verify=True)) == 1
    assert {tuple(s["image"].shape) for s in build("folder", root=str(tmp_path), val_fraction=0.0, size=16)} == {(1, 16, 16)}
