"""The reader: emkit's readers behind napari's reader contract, pixel size as layer scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emkit.data.formats import BadFileError
from emkit_napari.reader import EXTENSIONS, get_reader, read_layers


def image(h: int = 48, w: int = 64) -> np.ndarray:
    return (np.arange(h * w, dtype=np.uint16).reshape(h, w) % 977).astype(np.uint16)


def write_tiff(path: Path, data: np.ndarray, nm: float) -> Path:
    import tifffile

    tifffile.imwrite(path, data, resolution=(1e7 / nm, 1e7 / nm), resolutionunit="CENTIMETER")
    return path


def test_tiff_pixel_size_becomes_scale(tmp_path: Path) -> None:
    path = write_tiff(tmp_path / "a.tif", image(), 0.25)
    reader = get_reader(str(path))
    assert reader is read_layers
    [(data, kwargs, kind)] = reader(str(path))
    assert kind == "image" and kwargs["name"] == "a"
    np.testing.assert_array_equal(data, image())
    assert kwargs["scale"] == pytest.approx((0.25, 0.25))
    assert kwargs["units"] == ("nm", "nm")
    assert kwargs["metadata"]["emkit_format"] == "tiff"


def test_mrc_stack_keeps_stack_and_voxel_size(tmp_path: Path) -> None:
    import mrcfile

    stack = np.stack([image(), image()[::-1]]).astype(np.float32)
    with mrcfile.new(tmp_path / "s.mrc") as mrc:
        mrc.set_data(stack)
        mrc.voxel_size = 3.0  # Angstrom
    [(data, kwargs, _)] = read_layers(str(tmp_path / "s.mrc"))
    assert data.shape == (2, 48, 64)
    assert kwargs["scale"] == pytest.approx((1.0, 0.3, 0.3))
    assert kwargs["units"] == ("pixel", "nm", "nm")


def test_hdf5_without_pixel_size_has_no_scale(tmp_path: Path) -> None:
    import h5py

    with h5py.File(tmp_path / "d.h5", "w") as fh:
        fh["images"] = np.stack([image()] * 3)
    [(data, kwargs, _)] = read_layers([str(tmp_path / "d.h5")])
    assert data.shape == (3, 48, 64) and "scale" not in kwargs


def test_other_files_are_left_to_other_readers(tmp_path: Path) -> None:
    assert get_reader(str(tmp_path / "a.png")) is None
    assert get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.txt")]) is None
    assert get_reader(str(tmp_path)) is None


def test_corrupt_file_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mrc"
    bad.write_bytes(b"\x00" * 300)
    with pytest.raises(BadFileError, match=r"bad\.mrc: "):
        read_layers(str(bad))


def test_manifest_patterns_are_emkit_formats() -> None:
    """napari.yaml lists exactly the extensions the reader claims (emkit's families minus PNG/JPEG)."""
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[1] / "emkit_napari" / "napari.yaml").read_text())
    [reader] = manifest["contributions"]["readers"]
    assert {p.removeprefix("*") for p in reader["filename_patterns"]} == set(EXTENSIONS)


def test_opening_through_napari_uses_the_scale(make_napari_viewer, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_tiff(tmp_path / "scaled.tif", image(), 0.5)
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="emkit-napari")
    assert layer.name == "scaled" and tuple(layer.scale) == pytest.approx((0.5, 0.5))
    assert [str(u) for u in layer.units] == ["nanometer", "nanometer"]


def test_opening_a_stack_through_napari(make_napari_viewer, tmp_path: Path) -> None:  # noqa: ANN001
    import mrcfile

    with mrcfile.new(tmp_path / "stack.mrc") as mrc:
        mrc.set_data(np.stack([image(), image()[::-1]]).astype(np.float32))
        mrc.voxel_size = 5.0  # Angstrom
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(tmp_path / "stack.mrc"), plugin="emkit-napari")
    assert layer.data.shape == (2, 48, 64) and tuple(layer.scale) == pytest.approx((1.0, 0.5, 0.5))
    assert viewer.dims.nsteps[0] == 2  # a slider over the stack
