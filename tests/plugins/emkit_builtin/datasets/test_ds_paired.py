"""``temimagenet``, ``paired-folder`` and ``mask-folder`` on layouts written by the tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from emkit.errors import DataError

TEM_FOLDERS = ("image", "noNoise", "noBackgroundnoNoise", "noNoiseNoBackgroundSuperresolution", "circularMask")


@pytest.fixture
def tem_root(tmp_path, rng):
    """12 TEMImageNet-style 32x32 pairs; the mask is 0/255 and its own value marks the id."""
    for folder in TEM_FOLDERS:
        (tmp_path / folder).mkdir()
    for i in range(12):
        for k, folder in enumerate(TEM_FOLDERS):
            if folder == "circularMask":
                arr = np.zeros((32, 32), np.uint8)
                arr[: 2 + i, :] = 255
            else:
                arr = rng.integers(0, 256, (32, 32)).astype(np.uint8)
                arr[0, 0] = 10 * k  # which folder it came from
            Image.fromarray(arr).save(tmp_path / folder / f"{i:04d}.png")
    return tmp_path


def test_temimagenet_pairs_by_name_and_selects_targets(build, tem_root):
    ds = build("temimagenet", root=str(tem_root), val_fraction=0.0, test_fraction=0.0)
    assert len(ds) == 12 and ds.provides == ("target", "mask")
    s = ds[3]
    assert s["image"].dtype == torch.uint8 and s["target"].dtype == torch.uint8 and s["mask"].dtype == torch.uint8
    assert int(s["image"][0, 0, 0]) == 0 and int(s["target"][0, 0, 0]) == 10
    expected = np.zeros((32, 32), np.uint8)
    expected[: 2 + int(s["source"]), :] = 1
    assert np.array_equal(s["mask"][0].numpy(), expected)
    for kind, code in (("denoise", 10), ("background-removal", 20), ("super-resolution", 30)):
        ds.select_target(kind)
        out = ds[0]
        assert ds.provides == ("target",) and "mask" not in out and int(out["target"][0, 0, 0]) == code
    ds.select_target("segmentation")
    assert ds.provides == ("mask",) and set(ds[0]) == {"image", "mask", "source"}
    with pytest.raises(DataError, match="not found"):
        ds.select_target("inpainting")  # neither a task kind nor an existing folder
    paired = build("paired-folder", root=str(tem_root), target_dir="noNoise", val_fraction=0.0, test_fraction=0.0)
    with pytest.raises(DataError, match="cannot serve"):
        paired.select_target("segmentation")


def test_temimagenet_default_collate_and_splits(build, tem_root):
    parts = [len(build("temimagenet", split=s, root=str(tem_root), val_fraction=0.25, test_fraction=0.25))
             for s in ("train", "val", "test")]
    assert sum(parts) == 12
    ds = build("temimagenet", root=str(tem_root), val_fraction=0.0, test_fraction=0.0)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 1, 32, 32) and batch["mask"].shape == (4, 1, 32, 32)


def test_temimagenet_split_files(build, tem_root, tmp_path_factory):
    lists = tmp_path_factory.mktemp("splits")
    (lists / "train.txt").write_text("\n".join(f"{i:04d}" for i in range(8)))
    (lists / "test.txt").write_text("0010\n0011\n")
    assert len(build("temimagenet", root=str(tem_root), split_files=str(lists))) == 8
    ds = build("temimagenet", split="test", root=str(tem_root), split_files=str(lists))
    assert sorted(ds[i]["source"] for i in range(len(ds))) == ["0010", "0011"]


def test_unpaired_and_missing_folders(build, tem_root):
    (tem_root / "noNoise" / "0005.png").unlink()
    with pytest.raises(DataError, match="0005.png.*no partner in noNoise"):
        build("temimagenet", root=str(tem_root))
    ds = build("temimagenet", root=str(tem_root), on_error="skip", val_fraction=0.0, test_fraction=0.0)
    assert len(ds) == 11 and any("0005" in f for f, _ in ds.problems())
    with pytest.raises(DataError, match="not found.*sub-folders of root"):
        build("temimagenet", root=str(tem_root), target="gaussianMask")


def test_bad_partner_file_is_skipped(build, tem_root):
    (tem_root / "noNoise" / "0002.png").write_bytes(b"")
    Image.fromarray(np.zeros((16, 16), np.uint8) + 3).save(tem_root / "noNoise" / "0004.png")
    ds = build("temimagenet", root=str(tem_root), val_fraction=0.0, test_fraction=0.0, on_error="skip")
    sources = [ds[i]["source"] for i in range(len(ds))]
    assert "0002" not in sources and "0004" not in sources
    reasons = " ".join(r for _, r in ds.problems())
    assert "empty file" in reasons and "differs from its input" in reasons


def test_paired_folder_normalises_both_sides(build, tmp_path, rng):
    for d in ("image", "target"):
        (tmp_path / d / "sub").mkdir(parents=True)
    for i in range(5):
        Image.fromarray(rng.integers(0, 65535, (20, 20)).astype(np.uint16)).save(tmp_path / "image" / "sub" / f"{i}.png")
        Image.fromarray(rng.integers(0, 65535, (20, 20)).astype(np.uint16)).save(tmp_path / "target" / "sub" / f"{i}.tif")
    ds = build("paired-folder", root=str(tmp_path), val_fraction=0.0, test_fraction=0.0, size=16)
    s = ds[0]
    assert s["image"].dtype == s["target"].dtype == torch.float32
    assert s["image"].shape == s["target"].shape == (1, 16, 16) and s["source"] == "sub/0"
    ds.select_target("denoise")


def test_mask_folder_modes(build, tmp_path, rng):
    for d in ("image", "mask"):
        (tmp_path / d).mkdir()
    for i in range(4):
        Image.fromarray(rng.integers(1, 255, (16, 16)).astype(np.uint8)).save(tmp_path / "image" / f"{i}.png")
    Image.fromarray((np.arange(256).reshape(16, 16) > 100).astype(np.uint8) * 255).save(tmp_path / "mask" / "0.png")
    Image.fromarray((np.arange(256).reshape(16, 16) % 3).astype(np.uint8)).save(tmp_path / "mask" / "1.png")
    Image.fromarray(np.arange(256).reshape(16, 16).astype(np.uint8)).save(tmp_path / "mask" / "2.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "mask" / "3.png")
    ds = build("mask-folder", root=str(tmp_path), val_fraction=0.0, test_fraction=0.0, verify=True,
               on_error="skip")
    by = {ds[i]["source"]: ds[i]["mask"][0].numpy() for i in range(len(ds))}
    assert set(np.unique(by["0"])) == {0, 1}
    assert set(np.unique(by["1"])) == {0, 1, 2}
    assert "2" not in by  # 256 grey levels: auto refuses to guess a threshold
    assert [r for _, r in ds.problems()] == [
        "mask values (256 distinct, 0..255) are not a mask encoding mask_mode=auto understands "
        "(bool, 0/1, 0/255, class ids 0..31, soft masks in [0, 1]); set mask_mode=binary with "
        "mask_threshold, or mask_mode=index"]
    assert by["3"].max() == 0  # an empty mask is valid (not a "constant image" error)
    binary = build("mask-folder", root=str(tmp_path), val_fraction=0.0, test_fraction=0.0, mask_mode="binary")
    by = {binary[i]["source"]: binary[i]["mask"][0].numpy() for i in range(4)}
    assert np.array_equal(by["2"], (np.arange(256).reshape(16, 16) > 127).astype(np.uint8))
    ds.select_target("segmentation")
    with pytest.raises(DataError):
        ds.select_target("denoise")
