"""temimagenet opens only the folders the chosen task needs."""

from __future__ import annotations

import shutil

import pytest

from emkit.errors import DataError


@pytest.fixture
def partial(tmp_path):
    from emkit.data.synthetic.export import write_synthetic

    write_synthetic("stem", tmp_path / "full", 6, seed=0, size=32)
    root = tmp_path / "partial"
    root.mkdir()
    for folder in ("image", "noNoise"):
        shutil.copytree(tmp_path / "full" / folder, root / folder)
    return root


def test_denoising_a_folder_with_only_image_and_nonoise(build, partial):
    ds = build("temimagenet", root=str(partial), val_fraction=0.0, test_fraction=0.0)
    assert ds.provides == ("target",) and len(ds) == 6
    ds.select_target("denoise")
    sample = ds[0]
    assert set(sample) >= {"image", "target"} and "mask" not in sample


def test_segmentation_asks_for_the_mask_folder_by_name(build, partial):
    ds = build("temimagenet", root=str(partial), val_fraction=0.0, test_fraction=0.0)
    with pytest.raises(DataError, match="circularMask.*not found.*image, noNoise"):
        ds.select_target("segmentation")


def test_a_folder_the_user_names_must_exist(build, partial):
    with pytest.raises(DataError, match="gaussianMask"):
        build("temimagenet", root=str(partial), mask_dir="gaussianMask")
