"""``emkit predict`` end to end on files the tests write (every reader format)."""

from __future__ import annotations

import h5py
import mrcfile
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from emkit.predict import load_model
from emkit.predict.metadata import read_meta

from run_support import needs_unet, run_cli

SMALL = {"blocks": 2, "width": 4}


def reference(run, image_unit: np.ndarray) -> np.ndarray:
    """Whole-image prediction in output space, without tiling."""
    model = load_model(run)
    with torch.no_grad():
        y = model.generator(torch.from_numpy(image_unit.astype(np.float32))[None, None] * 2 - 1)
        return model.head.activate(y)[0, 0].numpy()


@needs_unet
def test_segmentation_of_every_format(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="segmentation", threshold=0.5, out_scale=0.3)
    rng = np.random.default_rng(0)
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    img = rng.integers(0, 256, (150, 170), dtype=np.uint8)
    tifffile.imwrite(src / "a.tif", img, resolution=(1e7 / 0.8, 1e7 / 0.8), resolutionunit="CENTIMETER")
    Image.fromarray(img[:90, :100]).save(src / "b.png")
    with h5py.File(src / "sub" / "c.h5", "w") as fh:
        fh.create_dataset("images", data=rng.random((2, 64, 80), dtype=np.float32))
    with mrcfile.new(src / "d.mrc") as mrc:
        mrc.set_data(rng.normal(0, 1, (70, 66)).astype(np.float32))
        mrc.voxel_size = 5.0
    code, out, err = run_cli(["predict", str(run), str(src), "--out", str(tmp_path / "out"), "--tile", "128"], capsys)
    assert code == 0, err
    assert "tiles" in err and "files" in err  # progress bars
    outs = tmp_path / "out"
    expected = {"a": (150, 170), "b": (90, 100), "sub/c": (2, 64, 80), "d": (70, 66)}
    for stem, shape in expected.items():
        prob = tifffile.imread(outs / f"{stem}_prob.tif")
        mask = tifffile.imread(outs / f"{stem}_mask.tif")
        assert prob.shape == shape and prob.dtype == np.float32, stem
        assert mask.shape == shape and mask.dtype == np.uint8, stem
        np.testing.assert_array_equal(mask, (prob > 0.5).astype(np.uint8))
        assert 0 <= prob.min() and prob.max() <= 1 and prob.std() > 0.05
    assert len(out.split()) == 8
    assert read_meta(outs / "a_prob.tif", "tiff").pixel_size_nm == pytest.approx((0.8, 0.8))
    assert read_meta(outs / "d_mask.tif", "tiff").pixel_size_nm == pytest.approx((0.5, 0.5))
    # tiled through files == the generator on the whole image
    np.testing.assert_allclose(tifffile.imread(outs / "a_prob.tif"), reference(run, img / 255.0), atol=1e-4)


@needs_unet
def test_restoration_with_tta_and_globs(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="denoise", out_scale=0.2)
    img = np.random.default_rng(1).integers(0, 65535, (2, 150, 200), dtype=np.uint16)
    for i in range(2):
        tifffile.imwrite(tmp_path / f"im{i}.tif", img[i])
    args = ["predict", str(run), str(tmp_path / "im*.tif"), "--out", str(tmp_path / "o"), "--tile", "128",
            "--batch", "3", "--device", "cpu", "--normalize", "none", "-q"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    pred = tifffile.imread(tmp_path / "o" / "im1_pred.tif")
    assert pred.dtype == np.float32 and pred.shape == (150, 200)
    np.testing.assert_allclose(pred, reference(run, img[1] / 65535.0), atol=1e-4)
    code, _, err = run_cli(args[:-1] + ["--tta", "--out", str(tmp_path / "t")], capsys)
    assert code == 0, err
    tta = tifffile.imread(tmp_path / "t" / "im1_pred.tif")
    assert tta.shape == pred.shape and np.abs(tta - pred).max() > 1e-3


@needs_unet
def test_errors_are_one_line(make_run, tmp_path, capsys):
    run = make_run("unet", SMALL, task="segmentation")
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "missing.tif"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "missing.tif: no such file or folder" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    tifffile.imwrite(tmp_path / "x.tif", np.zeros((8, 8), np.uint8))
    code, _, err = run_cli(["predict", str(tmp_path / "norun"), str(tmp_path / "x.tif"), "--out", str(tmp_path / "o")],
                           capsys)
    assert code == 2 and "norun: no such run directory" in err
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "x.tif"), "--out", str(tmp_path / "o"),
                            "--overlap", "lots"], capsys)
    assert code == 2 and "--overlap expects 'auto'" in err
    (tmp_path / "bad.tif").write_bytes(b"II*\x00garbage")
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "bad.tif"), "--out", str(tmp_path / "o"), "-q"],
                           capsys)
    assert code == 2 and "bad.tif" in err and "Traceback" not in err
    assert not list((tmp_path / "o").glob("bad*"))  # no half-written outputs
