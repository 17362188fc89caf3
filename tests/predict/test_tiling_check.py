"""Where tiling is not exact, the stated deviation is the real one (HRNet: receptive field > tile)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from emkit.predict import TiledPredictor, TileSettings, load_model
from emkit.predict.image_prediction import predict_image
from emkit.predict.tiling_check import exact_tile, measure_array

from run_support import eager, has_generator, needs_unet, run_cli

SMALL_HRNET = {"stem_width": 8, "stage1_width": 4, "stage1_blocks": 1, "widths": [4, 8, 16, 32],
               "modules": [1, 1, 1], "blocks": [1, 1, 1], "decoder_widths": [8, 8, 4]}
needs_hrnet = pytest.mark.skipif(not has_generator("hrnet"), reason="generator 'hrnet' is not registered")


def first_pair_region(predictor: TiledPredictor, h: int, w: int) -> tuple[slice, slice]:
    pad, grid = predictor.plan(h, w)
    a, b = list(grid)[:2]
    y1, x1 = max(a.y, b.y) + grid.tile_h - pad.top, max(a.x, b.x) + grid.tile_w - pad.left
    return slice(max(0, -pad.top), min(h, y1)), slice(max(0, -pad.left), min(w, x1))


@needs_hrnet
@pytest.mark.parametrize("task", ["segmentation", "denoise"])
def test_stated_hrnet_deviation_is_the_direct_whole_vs_tiled_difference(make_run, tmp_path, capsys, task):
    run = make_run("hrnet", SMALL_HRNET, task=task, out_scale=0.3)
    image = np.random.default_rng(4).integers(0, 256, (150, 200), dtype=np.uint8)
    model = load_model(run)
    predictor = TiledPredictor(model.generator, model.head, TileSettings(tile=64, batch=2))
    assert not predictor.overlap.exact and predictor.receptive_field > 64
    # direct: the whole tiled prediction and the generator on the whole image
    unit = (image / np.float32(255)).astype(np.float32)
    tiled = predictor.predict_array(unit)
    whole = eager(run, unit[None, None])[0]
    rows, cols = first_pair_region(predictor, *image.shape)
    direct = np.abs(tiled[:, rows, cols] - whole[:, rows, cols])
    assert direct.max() > 1e-3  # tiling is really not exact here: the check can fail
    stated = measure_array(predictor, unit)
    assert stated.max_abs == pytest.approx(float(direct.max()), abs=1e-6)
    assert stated.mean_abs == pytest.approx(float(direct.mean()), abs=1e-6)
    if task == "segmentation":
        flips = np.mean((tiled[0, rows, cols] > 0.5) != (whole[0, rows, cols] > 0.5))
        assert stated.mask_fraction == pytest.approx(float(flips))
    else:
        assert stated.mask_fraction is None
    # the command line prints the same number once, with the tile that would be exact
    tifffile.imwrite(tmp_path / "a.tif", image)
    tifffile.imwrite(tmp_path / "b.tif", image[::-1].copy())
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), "--out",
                            str(tmp_path / "o"), "--tile", "64", "-q"], capsys)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("note: tiling:")]
    assert len(lines) == 1 and "a.tif" in lines[0], err
    assert re.search(rf"by up to {stated.max_abs:.3g} ", lines[0])
    assert f"--tile {exact_tile(predictor.receptive_field, predictor.multiple)} would be exact" in lines[0]
    # the array API reports it too, with the same predictions as the files
    result = predict_image(model, predictor, image, tiling=True)
    assert result.tiling.max_abs == pytest.approx(stated.max_abs, abs=1e-6)
    written = tifffile.imread(tmp_path / "o" / f"a_{'prob' if task == 'segmentation' else 'pred'}.tif")
    np.testing.assert_allclose(result.prediction[0], written, atol=1e-6)


@needs_unet
def test_exact_tiling_is_not_measured(make_run, tmp_path, capsys):
    run = make_run("unet", {"blocks": 2, "width": 4}, task="denoise", out_scale=0.2)
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(0).integers(0, 256, (300, 280), dtype=np.uint8))
    model = load_model(run)
    predictor = TiledPredictor(model.generator, model.head, TileSettings(tile=128))
    assert predictor.overlap.exact and predictor.count_tiles(300, 280) > 1
    assert measure_array(predictor, np.zeros((300, 280), np.float32)) is None
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(tmp_path / "o"),
                            "--tile", "128", "-q"], capsys)
    assert code == 0 and "tiling:" not in err, err
