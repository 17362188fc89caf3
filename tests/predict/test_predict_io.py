"""Reading strips, writing TIFFs with metadata, finding inputs and normalising intensities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from emkit.data.readers import BadFileError
from emkit.errors import EmkitError
from emkit.predict.inputs.files import expand_inputs
from emkit.data.intensity import IntensityRule, make_rule, resolve_for_prediction as resolve
from emkit.predict.metadata import ImageMeta, read_meta
from emkit.predict.inputs.sources import ArraySource, TiffStripSource, open_source, stack_shape
from emkit.predict.writers import TiffStripWriter


# ---------------------------------------------------------------- sources


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_uncompressed_tiff_is_read_in_strips(tmp_path, byteorder):
    data = np.random.default_rng(0).integers(0, 60000, (3, 50, 70), dtype=np.uint16)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, data, photometric="minisblack", byteorder=byteorder)
    with open_source(path, 1) as src:
        assert isinstance(src, TiffStripSource)
        assert src.shape == (3, 1, 50, 70) and src.dtype == np.uint16
        np.testing.assert_array_equal(src.read_rows(1, 10, 30)[0], data[1, 10:30])
        np.testing.assert_array_equal(src.read_rows(1, 12, 20)[0], data[1, 12:20])  # from the cached strip
        np.testing.assert_array_equal(src.read_rows(2, 0, 50)[0], data[2])
        np.testing.assert_array_equal(np.sort(src.sample(0, 10**6)), np.sort(data[0].ravel()))
        sub = src.sample(0, 100)
        assert 100 <= sub.size < 400


def test_compressed_tiff_falls_back_to_the_reader(tmp_path):
    data = np.random.default_rng(0).random((40, 30), dtype=np.float32)
    path = tmp_path / "z.tif"
    tifffile.imwrite(path, data, compression="zlib")
    with open_source(path, 1) as src:
        assert isinstance(src, ArraySource)
        np.testing.assert_array_equal(src.read_rows(0, 5, 9)[0], data[5:9])


def test_truncated_tiff_is_a_bad_file(tmp_path):
    path = tmp_path / "t.tif"
    tifffile.imwrite(path, np.ones((400, 400), np.uint16))
    path.write_bytes(path.read_bytes()[:100000])
    with pytest.raises(BadFileError, match="t.tif"):
        with open_source(path, 1) as src:
            src.read_rows(0, 300, 400)


def test_stack_shape_rules(tmp_path):
    p = tmp_path / "x.tif"
    assert stack_shape((5, 6), 1, p) == (1, 1, 5, 6)
    assert stack_shape((2, 3, 5, 6), 1, p) == (6, 1, 5, 6)
    assert stack_shape((3, 5, 6), 3, p) == (1, 3, 5, 6)
    assert stack_shape((4, 3, 5, 6), 3, p) == (4, 3, 5, 6)
    with pytest.raises(BadFileError, match="takes 2 channels"):
        stack_shape((3, 5, 6), 2, p)
    with pytest.raises(BadFileError, match="2-D image"):
        stack_shape((5,), 1, p)


# ---------------------------------------------------------------- writer + metadata


def test_writer_fills_rows_and_carries_metadata(tmp_path):
    out = tmp_path / "o" / "x_pred.tif"
    meta = ImageMeta((0.5, 0.25), "Microscope: X")
    writer = TiffStripWriter(out, (2, 3, 10, 7), np.float32, meta.tiff_kwargs({"source": "x.tif"}))
    full = np.random.default_rng(0).random((2, 3, 10, 7), dtype=np.float32)
    for n in range(2):
        for r0 in range(0, 10, 4):
            writer.write(n, r0, full[n, :, r0 : r0 + 4])
    assert not out.exists()  # only the temp file until closed
    assert writer.temp.exists() and writer.temp.parent == out.parent
    writer.close()
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    np.testing.assert_array_equal(tifffile.imread(out), full)
    back = read_meta(out, "tiff")
    np.testing.assert_allclose(back.pixel_size_nm, (0.5, 0.25))
    assert back.description == "Microscope: X"
    with tifffile.TiffFile(out) as tif:
        assert tif.shaped_metadata[0]["source"] == "x.tif"
        assert tif.shaped_metadata[0]["axes"] == "QCYX"


def test_writer_syncs_the_file_before_renaming_it(tmp_path, monkeypatch):
    import os

    import emkit.storage.atomic as atomic

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (events.append(("replace", Path(b).name)), real_replace(a, b))[1])
    writer = TiffStripWriter(tmp_path / "z.tif", (1, 1, 4, 4), np.uint8)
    writer.write(0, 0, np.ones((1, 4, 4), np.uint8))
    assert events == []
    writer.close()
    assert events[:2] == ["fsync", ("replace", "z.tif")] and events[2:] == ["fsync"]  # file, rename, folder


def test_writer_removes_its_temp_file_on_failure(tmp_path):
    out = tmp_path / "y.tif"
    writer = TiffStripWriter(out, (1, 1, 4, 4), np.uint8)
    assert writer.temp.exists()
    writer.close(ok=False)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_pixel_size_of_each_format(tmp_path):
    import h5py
    import mrcfile
    from PIL import Image

    img = np.zeros((8, 8), np.uint8)
    tifffile.imwrite(tmp_path / "cm.tif", img, resolution=(1e7 / 2.0, 1e7 / 3.0), resolutionunit="CENTIMETER")
    tifffile.imwrite(tmp_path / "ij.tif", img, imagej=True, resolution=(4.0, 4.0), metadata={"unit": "um"})
    tifffile.imwrite(tmp_path / "none.tif", img)
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(img.astype(np.float32))
        mrc.voxel_size = 12.0  # Å
    with h5py.File(tmp_path / "a.h5", "w") as fh:
        fh.create_dataset("images", data=img[None]).attrs["element_size_um"] = [1.0, 0.002, 0.003]
    Image.fromarray(img).save(tmp_path / "a.png", dpi=(254, 254))
    assert read_meta(tmp_path / "cm.tif", "tiff").pixel_size_nm == pytest.approx((3.0, 2.0))
    assert read_meta(tmp_path / "ij.tif", "tiff").pixel_size_nm == pytest.approx((250.0, 250.0))
    assert read_meta(tmp_path / "none.tif", "tiff").pixel_size_nm is None
    assert read_meta(tmp_path / "a.mrc", "mrc").pixel_size_nm == pytest.approx((1.2, 1.2))
    assert read_meta(tmp_path / "a.h5", "hdf5").pixel_size_nm == pytest.approx((2.0, 3.0))
    assert read_meta(tmp_path / "a.png", "pil").pixel_size_nm == pytest.approx((1e5, 1e5), rel=1e-2)
    assert read_meta(tmp_path / "missing.tif", "tiff") == ImageMeta()


# ---------------------------------------------------------------- inputs


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, np.zeros((4, 4), np.uint8))
    return path


def test_inputs_from_files_folders_and_globs(tmp_path):
    a = _touch(tmp_path / "in" / "a.tif")
    _touch(tmp_path / "in" / "sub" / "b.tif")
    (tmp_path / "in" / "notes.txt").write_text("x")
    c = _touch(tmp_path / "loose" / "c.tif")
    _touch(tmp_path / "out" / "a_pred.tif")  # an earlier output: never an input
    files = expand_inputs([str(tmp_path / "in"), str(tmp_path / "loose" / "*.tif"), str(a)], tmp_path / "out")
    assert [f.stem for f in files] == ["a", "sub/b", "c"]
    assert files[2].path == c
    assert expand_inputs([str(tmp_path)], tmp_path / "out")[0].stem == "in/a"


def test_input_errors_name_the_input(tmp_path):
    _touch(tmp_path / "x" / "a.tif")
    _touch(tmp_path / "y" / "a.tif")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmkitError, match="nope.tif: no such file"):
        expand_inputs([str(tmp_path / "nope.tif")], tmp_path / "out")
    with pytest.raises(EmkitError, match="matches no image files"):
        expand_inputs([str(tmp_path / "*.mrc")], tmp_path / "out")
    with pytest.raises(EmkitError, match="folder holds no image files"):
        expand_inputs([str(tmp_path / "empty")], tmp_path / "out")
    with pytest.raises(EmkitError, match="same outputs"):
        expand_inputs([str(tmp_path / "x" / "a.tif"), str(tmp_path / "y" / "a.tif")], tmp_path / "out")


# ---------------------------------------------------------------- intensities


def _fit(norm: IntensityRule, arr: np.ndarray):
    return norm.fit(arr.dtype, lambda limit: arr.ravel(), "x.tif")


def test_normalisation_matches_training_rules():
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    u16 = rng.integers(100, 4000, (30, 40), dtype=np.uint16)
    f32 = rng.normal(5, 2, (30, 40)).astype(np.float32)
    for mode in ("auto", "none", "percentile", "fixed"):
        for arr in (u8, u16, f32):
            ours = _fit(make_rule(mode), arr)(arr)
            expected = make_rule(mode)(arr)
            if expected.dtype in (np.uint8, np.uint16):
                expected = expected.astype(np.float32) / np.iinfo(expected.dtype).max
            np.testing.assert_allclose(ours, expected, atol=1e-6, err_msg=f"{mode} {arr.dtype}")
    ms = make_rule("meanstd", mean=0.4, std=0.1)
    np.testing.assert_allclose(_fit(ms, u8)(u8), ms(u8), atol=1e-6)


def test_normalisation_from_run_and_errors():
    assert resolve("run", {"normalize": "percentile", "percentile_low": 1.0}).low == 1.0
    assert resolve("run", None).mode == "auto"
    assert resolve("run", {"normalize": "meanstd", "mean": 0.3, "std": 0.1}).mean == 0.3
    assert resolve("fixed", {"normalize": "auto"}, scale=4095).scale == 4095
    with pytest.raises(EmkitError, match="--normalize"):
        resolve("zscore", None)
    with pytest.raises(EmkitError, match="x.tif: .*meanstd"):
        _fit(make_rule("meanstd"), np.zeros((2, 2), np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64],
                         ids=lambda d: np.dtype(d).name)
def test_predict_maps_every_integer_type_by_its_range(dtype):
    """Through the tiled predictor (``none``: the stored type decides) an identity network
    returns each pixel's position in its type's range: minimum 0, maximum 1."""
    import torch

    from emkit.predict import OutputHead, TiledPredictor, TileSettings

    info = np.iinfo(dtype)
    rng = np.random.default_rng(0)
    image = rng.integers(int(info.min), int(info.max), (40, 50), dtype=dtype, endpoint=True)
    image[0, 0], image[-1, -1] = info.min, info.max
    rule = resolve("run", {"normalize": "none"})
    scaling = rule.fit(image.dtype, lambda limit: image.reshape(-1))
    predictor = TiledPredictor(torch.nn.Identity(), OutputHead("image", 1), TileSettings(tile=32, batch=2),
                               size_multiple=1, receptive_field=1)
    out = predictor.predict_array(image, scaling)[0]
    expected = (image.astype(np.float64) - float(info.min)) / (float(info.max) - float(info.min))
    assert out[0, 0] == 0.0 and out[-1, -1] == 1.0
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6)
