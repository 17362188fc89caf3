"""Readers: every format family, content-based dispatch, and every kind of bad file."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from emkit.data.readers import (
    BadFileError,
    as_2d,
    count_slices,
    list_images,
    read_image,
    sniff_format,
)
from emkit.errors import DataError


def img(rng, dtype=np.uint8, shape=(32, 40)):
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_tiff_dtypes_roundtrip(write_tiff, rng, dtype):
    a = img(rng, dtype)
    out = read_image(write_tiff(f"a_{np.dtype(dtype).name}.tif", a))
    assert out.dtype == a.dtype and np.array_equal(out, a)


def test_tiff_stack_pages_and_bigtiff(write_tiff, rng):
    stack = img(rng, np.uint16, (5, 16, 24))
    path = write_tiff("stack.tif", stack)
    assert np.array_equal(read_image(path), stack)
    assert np.array_equal(read_image(path, 3), stack[3])
    assert count_slices(path) == 5
    big = write_tiff("big.tif", stack, bigtiff=True)
    assert sniff_format(big) == "tiff" and np.array_equal(read_image(big, 4), stack[4])
    with pytest.raises(BadFileError, match="out of range"):
        read_image(path, 7)


def test_tiff_compressed_and_memory_mapped(write_tiff, rng):
    a = img(rng, np.uint8, (64, 64))
    assert np.array_equal(read_image(write_tiff("z.tif", a, compression="zlib")), a)
    large = img(rng, np.uint16, (1024, 600))  # > 1 MiB uncompressed: memory-mapped
    out = read_image(write_tiff("large.tif", large))
    assert isinstance(out, np.memmap) and np.array_equal(out, large)


def test_tiff_rgb_becomes_gray(write_tiff, rng):
    rgb = np.stack([img(rng)] * 3, axis=-1)
    out = read_image(write_tiff("rgb.tif", rgb, photometric="rgb"))
    assert out.shape == (32, 40) and np.abs(out.astype(int) - rgb[..., 0]).max() <= 1


def test_png_jpeg(write_png, rng):
    a = img(rng)
    assert np.array_equal(read_image(write_png("a.png", a)), a)
    a16 = img(rng, np.uint16)
    out16 = read_image(write_png("a16.png", a16))
    assert out16.dtype == np.uint16 and np.array_equal(out16, a16)
    rgb = np.stack([a, a, a], -1)
    assert read_image(write_png("rgb.png", rgb)).shape == a.shape
    smooth = np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (32, 1))
    jpg = read_image(write_png("a.jpg", smooth, quality=95))
    assert jpg.dtype == np.uint8 and np.abs(jpg.astype(int) - smooth).mean() < 4


def test_hdf5_named_nchw_nhw(tmp_path, rng):
    import h5py

    nchw = rng.random((3, 1, 16, 16)).astype(np.float32)
    with h5py.File(tmp_path / "a.h5", "w") as fh:
        fh["images"] = nchw
        fh["maps"] = nchw
        fh["other"] = rng.random((4, 8, 8)).astype(np.float32)
    assert read_image(tmp_path / "a.h5").shape == (3, 1, 16, 16)
    assert np.array_equal(read_image(tmp_path / "a.h5", 2)[0], nchw[2, 0])
    assert read_image(tmp_path / "a.h5", key="other").shape == (4, 8, 8)
    assert count_slices(tmp_path / "a.h5", key="other") == 4
    with pytest.raises(BadFileError, match="no dataset 'nope'"):
        read_image(tmp_path / "a.h5", key="nope")
    with h5py.File(tmp_path / "amb.hdf5", "w") as fh:
        fh["x"] = nchw[:, 0]
        fh["y"] = nchw[:, 0]
    with pytest.raises(BadFileError, match="cannot tell which HDF5 dataset"):
        read_image(tmp_path / "amb.hdf5")


def test_mrc_stack(tmp_path, rng):
    import mrcfile

    stack = rng.random((4, 12, 10)).astype(np.float32)
    with mrcfile.new(tmp_path / "s.mrc") as mrc:
        mrc.set_data(stack)
    assert sniff_format(tmp_path / "s.mrc") == "mrc"
    assert np.array_equal(read_image(tmp_path / "s.mrc"), stack)
    assert np.array_equal(read_image(tmp_path / "s.mrc", 1), stack[1])
    assert count_slices(tmp_path / "s.mrc") == 4
    raw = (tmp_path / "s.mrc").read_bytes()
    (tmp_path / "t.mrc").write_bytes(raw[: len(raw) - 100])
    with pytest.raises(BadFileError, match="t.mrc"):
        read_image(tmp_path / "t.mrc")


def test_em_formats_need_the_extra(tmp_path, monkeypatch):
    (tmp_path / "a.dm4").write_bytes(b"\x00\x00\x00\x04" + b"\x00" * 64)
    for mod in [m for m in sys.modules if m == "rsciio" or m.startswith("rsciio.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "rsciio", None)
    with pytest.raises(DataError) as err:
        read_image(tmp_path / "a.dm4")
    assert "a.dm4" in str(err.value) and "emkit[em-formats]" in str(err.value) and "em-formats" in str(err.value)


def test_content_beats_extension(write_png, tmp_path, rng):
    a = img(rng)
    path = write_png("really_png.tif", a, format="PNG")
    assert sniff_format(path) == "pil" and np.array_equal(read_image(path), a)


@pytest.mark.parametrize(
    "case, match",
    [
        ("empty", "empty file"),
        ("truncated_tiff", "truncated"),
        ("truncated_png", "truncated or corrupt"),
        ("text", "not a supported image|not an image"),
        ("nan", "NaN"),
        ("inf", "Inf"),
        ("constant", "constant image"),
        ("rank", "wrong rank"),
        ("missing", "file not found"),
    ],
)
def test_bad_files_raise_one_data_error_naming_file_and_problem(tmp_path, write_tiff, write_png, rng, case, match):
    import h5py

    if case == "empty":
        path = tmp_path / "x.tif"
        path.write_bytes(b"")
    elif case == "truncated_tiff":
        full = write_tiff("full.tif", img(rng, np.uint8, (64, 64)))
        path = tmp_path / "x.tif"
        path.write_bytes(full.read_bytes()[:2000])
    elif case == "truncated_png":
        full = write_png("full.png", img(rng, np.uint8, (64, 64)))
        path = tmp_path / "x.png"
        path.write_bytes(full.read_bytes()[:300])
    elif case == "text":
        path = tmp_path / "x.png"
        path.write_text("this is not an image\n" * 10)
    elif case in ("nan", "inf"):
        a = rng.random((16, 16)).astype(np.float32)
        a[3, 4] = np.nan if case == "nan" else np.inf
        path = write_tiff("x.tif", a)
    elif case == "constant":
        path = write_tiff("x.tif", np.full((16, 16), 7, np.uint8))
    elif case == "rank":
        path = tmp_path / "x.h5"
        with h5py.File(path, "w") as fh:
            fh["images"] = np.arange(10, dtype=np.float32)
    else:
        path = tmp_path / "x.tif"
    with pytest.raises(DataError) as err:
        read_image(path)
    assert isinstance(err.value, BadFileError)
    assert str(path) in str(err.value)
    assert err.value.path == str(path)
    import re

    assert re.search(match, err.value.reason), err.value.reason


def test_as_2d_and_listing(tmp_path, write_tiff, rng):
    assert as_2d(np.zeros((1, 1, 4, 5)), "f").shape == (4, 5)
    with pytest.raises(BadFileError, match="wrong rank"):
        as_2d(np.zeros((2, 4, 5)), "f")
    write_tiff("b/2.tif", img(rng))
    write_tiff("a/1.TIF", img(rng))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".hidden").mkdir()
    write_tiff(".hidden/3.tif", img(rng))
    assert list_images(tmp_path) == ["a/1.TIF", "b/2.tif"]
    with pytest.raises(DataError, match="not found"):
        list_images(tmp_path / "nope")


def test_planar_rgb_tiff_becomes_gray(tmp_path):
    """A (3, H, W) 16-bit TIFF written as separate RGB planes reads as one (H, W) image."""
    import numpy as np
    import tifffile

    from emkit.data.readers import read_image

    ramp = np.arange(35, dtype=np.uint16).reshape(5, 7)
    planes = np.stack([ramp + v for v in (1000, 2000, 3000)])
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, planes, photometric="rgb", planarconfig="separate")
    out = np.asarray(read_image(path))
    assert out.shape[-2:] == (5, 7) and out.ndim == 2
    assert int(out[0, 0]) == round(0.299 * 1000 + 0.587 * 2000 + 0.114 * 3000)
    assert int(out[4, 6]) == round(0.299 * 1034 + 0.587 * 2034 + 0.114 * 3034)
