"""Layers → a mask-folder / paired-folder dataset that emkit's own datasets read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from emkit.errors import EmkitError
from emkit_napari.layer_dataset import starts, write_layer_dataset


def test_patches_cover_every_pixel() -> None:
    assert starts(100, 32) == [0, 32, 64, 68]
    assert starts(64, 32) == [0, 32]
    assert starts(32, 32) == [0]


def test_segmentation_layout_and_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    image = rng.random((2, 70, 64)).astype(np.float64)
    labels = np.zeros((2, 70, 64), np.int32)
    labels[:, 10:20, 10:30] = 7  # an instance id: "foreground" makes it class 1
    ds = write_layer_dataset(tmp_path, image, labels, "mask", patch=32)
    keys = sorted(p.stem for p in (tmp_path / "image").iterdir())
    assert len(keys) == 2 * 3 * 2 and ds.patch == 32 and ds.classes == 2  # rows 0, 32, 38; cols 0, 32
    assert keys == sorted(p.stem for p in (tmp_path / "mask").iterdir())
    train = (tmp_path / "splits" / "train.txt").read_text().split()
    val = (tmp_path / "splits" / "val.txt").read_text().split()
    assert (tmp_path / "splits" / "test.txt").read_text() == ""
    assert sorted(train + val) == keys and not set(train) & set(val) and len(val) == 2 == ds.val
    first = tifffile.imread(tmp_path / "mask" / "s000_p0000.tif")
    assert first.dtype == np.uint8 and set(np.unique(first)) == {0, 1}
    assert tifffile.imread(tmp_path / "image" / "s000_p0000.tif").dtype == np.float32


def test_emkit_mask_folder_reads_it(tmp_path: Path) -> None:
    from emkit.data.build import build_dataset

    image = (np.random.default_rng(1).random((64, 64)) * 255).astype(np.uint8)
    labels = np.zeros((64, 64), np.uint8)
    labels[5:30, 5:30] = 2
    write_layer_dataset(tmp_path, image, labels, "mask", patch=32, label_mode="classes")
    train = build_dataset("mask-folder", {"root": str(tmp_path), "split_files": str(tmp_path / "splits"),
                                          "mask_mode": "index"}, "train")
    assert len(train) == 3
    sample = train[0]
    assert tuple(sample["image"].shape) == tuple(sample["mask"].shape) == (1, 32, 32)
    assert int(sample["mask"].max()) == 2


def test_constant_patches_are_left_out(tmp_path: Path) -> None:
    image = np.zeros((64, 64), np.uint8)
    image[:32, :32] = np.arange(32 * 32).reshape(32, 32) % 200
    ds = write_layer_dataset(tmp_path, image, np.zeros_like(image), "target", patch=32)
    assert ds.train + ds.val == 1 and ds.dataset == "paired-folder" and ds.val == 0


def test_refusals_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(EmkitError, match="differ in shape"):
        write_layer_dataset(tmp_path, np.ones((64, 64)), np.ones((32, 64)), "mask")
    with pytest.raises(EmkitError, match="needs at least 32x32"):
        write_layer_dataset(tmp_path, np.ones((20, 64)), np.ones((20, 64)), "mask")
    with pytest.raises(EmkitError, match="constant everywhere"):
        write_layer_dataset(tmp_path, np.ones((64, 64)), np.ones((64, 64)), "mask")
    with pytest.raises(EmkitError, match="class ids must be in 0..255"):
        write_layer_dataset(tmp_path, np.eye(64), np.full((64, 64), 300), "mask", label_mode="classes")
