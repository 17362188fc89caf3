"""Arrays in memory → a mask-folder / paired-folder dataset that emkit's own datasets read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from emkit.data.arrays import content_root, starts, write_array_dataset
from emkit.errors import DataError


def test_patches_cover_every_pixel() -> None:
    assert starts(100, 32) == [0, 32, 64, 68]
    assert starts(64, 32) == [0, 32]
    assert starts(32, 32) == [0]


def test_segmentation_patches_layout_and_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    image = rng.random((2, 70, 64)).astype(np.float64)
    labels = np.zeros((2, 70, 64), np.int32)
    labels[:, 10:20, 10:30] = 7  # an instance id: "foreground" makes it class 1
    ds = write_array_dataset(tmp_path, "mask", image, labels, patch=32)
    keys = sorted(p.stem for p in (tmp_path / "image").iterdir())
    assert len(keys) == 2 * 3 * 2 and ds.patch == 32 and ds.classes == 2  # rows 0, 32, 38; cols 0, 32
    assert keys == sorted(p.stem for p in (tmp_path / "mask").iterdir())
    train = (tmp_path / "splits" / "train.txt").read_text().split()
    val = (tmp_path / "splits" / "val.txt").read_text().split()
    assert (tmp_path / "splits" / "test.txt").read_text() == ""
    assert sorted(train + val) == keys and not set(train) & set(val) and len(val) == 2 == ds.val
    first = tifffile.imread(tmp_path / "mask" / f"{keys[0]}.tif")
    assert first.dtype == np.uint8 and set(np.unique(first)) <= {0, 1}
    assert tifffile.imread(tmp_path / "image" / f"{keys[0]}.tif").dtype == np.float64  # the pixels as given


def test_whole_images_with_explicit_val_and_test(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 65535, (48, 40), dtype=np.uint16) for _ in range(3)]
    targets = [rng.random((48, 40), dtype=np.float32) for _ in range(3)]
    ds = write_array_dataset(tmp_path, "target", images, targets, val=(images[:1], targets[:1]),
                             test=(np.stack(images[1:]), np.stack(targets[1:])))
    assert (ds.train, ds.val, ds.test, ds.patch, ds.dataset) == (3, 1, 2, None, "paired-folder")
    stored = sorted((tmp_path / "image").iterdir())
    assert tifffile.imread(stored[0]).dtype == np.uint16
    assert ds.overrides()[:2] == ["data=paired-folder", f"data.root={tmp_path}"]


def test_emkit_mask_folder_reads_it(tmp_path: Path) -> None:
    from emkit.data.build import build_dataset

    image = (np.random.default_rng(1).random((64, 64)) * 255).astype(np.uint8)
    labels = np.zeros((64, 64), np.uint8)
    labels[5:30, 5:30] = 2
    written = write_array_dataset(tmp_path, "mask", image, labels, patch=32, label_mode="classes")
    assert written.classes == 3
    train = build_dataset("mask-folder", {"root": str(tmp_path), "split_files": str(tmp_path / "splits"),
                                          "mask_mode": "index"}, "train")
    assert len(train) == 3
    sample = train[0]
    assert tuple(sample["image"].shape) == tuple(sample["mask"].shape) == (1, 32, 32)
    assert int(sample["mask"].max()) == 2


def test_constant_items_are_left_out(tmp_path: Path) -> None:
    image = np.zeros((64, 64), np.uint8)
    image[:32, :32] = np.arange(32 * 32).reshape(32, 32) % 200
    ds = write_array_dataset(tmp_path, "target", image, np.zeros_like(image), patch=32)
    assert ds.train + ds.val == 1 and ds.dataset == "paired-folder" and ds.val == 0


def test_same_arrays_same_folder(tmp_path: Path) -> None:
    a = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    assert content_root(tmp_path, a, a) == content_root(tmp_path, a.copy(), a.copy())
    assert content_root(tmp_path, a, a) != content_root(tmp_path, a, a + 1)
    assert content_root(tmp_path, a, a) != content_root(tmp_path, a.astype(np.float64), a)


@pytest.mark.parametrize(("images", "partners", "kwargs", "message"), [
    (np.ones((64, 64)), np.ones((32, 64)), {}, r"images\[0\] \(64, 64\) and masks\[0\] \(32, 64\) differ in shape"),
    (np.ones((2, 64, 64)), np.ones((3, 64, 64)), {}, "images has 2 image.s. but masks has 3"),
    (np.ones((20, 64)), np.ones((20, 64)), {"patch": 32}, "needs at least 32x32"),
    (np.ones((64, 64)), np.ones((64, 64)), {}, "every image is constant"),
    (np.eye(64), np.full((64, 64), 300), {"label_mode": "classes"}, "class ids must be in 0..255"),
    (np.full((64, 64), np.nan), np.ones((64, 64)), {}, r"images: 4096 NaN/Inf pixel\(s\)"),
    (np.ones(5), np.ones(5), {}, "expected a 2-D image"),
    (np.zeros((0, 64, 64)), np.zeros((0, 64, 64)), {}, "empty"),
    (np.array([["a"]]), np.array([["b"]]), {}, "unsupported pixel type"),
])
def test_refusals_are_one_line_naming_the_argument(tmp_path, images, partners, kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(DataError, match=message):
        write_array_dataset(tmp_path, "mask", images, partners, **kwargs)
