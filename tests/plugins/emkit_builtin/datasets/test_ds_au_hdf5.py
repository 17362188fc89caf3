"""``au-hdf5``: the Sytwu/Groschner layout (images + maps, NCHW float32)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from emkit.errors import DataError


def write_au(path, n=6, size=32, seed=0, nan_at=None):
    rng = np.random.default_rng(seed)
    images = rng.normal(5, 2, (n, 1, size, size)).astype(np.float32)
    maps = np.zeros((n, 2, size, size), np.float32)
    maps[:, 1, : size // 2] = 1
    maps[:, 0] = 1 - maps[:, 1]
    if nan_at is not None:
        images[nan_at, 0, 3, 3] = np.nan
    with h5py.File(path, "w") as fh:
        fh["images"], fh["maps"] = images, maps
    return images, maps


def test_reads_images_and_particle_channel(build, tmp_path):
    images, maps = write_au(tmp_path / "train_a.h5")
    ds = build("au-hdf5", root=str(tmp_path), val_fraction=0.0, test_fraction=0.0)
    assert len(ds) == 6 and ds.provides == ("mask",)
    s = ds[2]
    assert s["image"].dtype == torch.float32 and s["image"].shape == (1, 32, 32)
    assert 0 <= float(s["image"].min()) and float(s["image"].max()) <= 1
    assert np.array_equal(s["mask"][0].numpy(), maps[2, 1].astype(np.uint8)) and s["source"] == "train_a.h5#2"
    raw = build("au-hdf5", root=str(tmp_path / "train_a.h5"), val_fraction=0.0, test_fraction=0.0, normalize="none")
    assert np.array_equal(raw[1]["image"][0].numpy(), images[1, 0])
    ds.select_target("segmentation")
    with pytest.raises(DataError):
        ds.select_target("denoise")


def test_whole_file_split_lists_and_dataloader_workers(build, tmp_path):
    write_au(tmp_path / "a.h5", n=4)
    write_au(tmp_path / "b.h5", n=3, seed=1)
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "train.txt").write_text("a.h5\n")
    (tmp_path / "splits" / "test.txt").write_text("b.h5\n")
    train = build("au-hdf5", root=str(tmp_path), split_files=str(tmp_path / "splits"))
    test = build("au-hdf5", split="test", root=str(tmp_path), split_files=str(tmp_path / "splits"))
    assert len(train) == 4 and len(test) == 3
    loader = torch.utils.data.DataLoader(train, batch_size=2, num_workers=2, multiprocessing_context="fork")
    assert sum(b["image"].shape[0] for b in loader) == 4


def test_bad_files(build, tmp_path):
    write_au(tmp_path / "good.h5", n=3)
    write_au(tmp_path / "nan.h5", n=2, nan_at=1)
    with h5py.File(tmp_path / "nomaps.h5", "w") as fh:
        fh["images"] = np.zeros((2, 1, 32, 32), np.float32)
    with h5py.File(tmp_path / "rank.h5", "w") as fh:
        fh["images"] = np.zeros((32, 32), np.float32)
        fh["maps"] = np.zeros((32, 32), np.float32)
    (tmp_path / "empty.h5").write_bytes(b"")
    (tmp_path / "trunc.h5").write_bytes((tmp_path / "good.h5").read_bytes()[:1000])
    with pytest.raises(DataError, match="empty.h5"):
        build("au-hdf5", root=str(tmp_path))
    ds = build("au-hdf5", root=str(tmp_path), on_error="skip", val_fraction=0.0, test_fraction=0.0)
    assert len(ds) == 5
    _ = [ds[i] for i in range(len(ds))]
    problems = {f.split("/")[-1]: r for f, r in ds.problems()}
    assert set(problems) == {"nomaps.h5", "rank.h5", "empty.h5", "trunc.h5", "nan.h5"}
    assert "no dataset 'maps'" in problems["nomaps.h5"] and "wrong rank" in problems["rank.h5"]
    assert "image 1" in problems["nan.h5"] and "NaN" in problems["nan.h5"]


def test_nan_fill_and_link_loop_under_skip(build, tmp_path):
    """``data.nan=fill`` reaches HDF5 stacks, and a link loop is skipped, not fatal."""
    write_au(tmp_path / "good.h5", n=3)
    images, _ = write_au(tmp_path / "nan.h5", n=2, nan_at=1)
    (tmp_path / "loop").symlink_to(tmp_path)
    with pytest.warns(UserWarning, match="1 NaN"):
        ds = build("au-hdf5", root=str(tmp_path), nan="fill", on_error="skip", val_fraction=0.0, test_fraction=0.0)
        filled = [ds[i] for i in range(len(ds))]
    assert len(ds) == 5 and all(torch.isfinite(s["image"]).all() for s in filled)
    assert [f.split("/")[-1] for f, _ in ds.problems()] == ["loop"]
