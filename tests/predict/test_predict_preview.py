"""``emkit predict --preview``: a labelled PNG beside the TIFFs of each input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from emkit.predict.postprocess import OutputHead
from emkit.predict.preview import PreviewRows, to_uint8

from run_support import needs_unet, run_cli


@needs_unet
def test_preview_beside_the_tiffs(make_run, tmp_path, capsys):
    run = make_run("unet", {"blocks": 2, "width": 4}, task="segmentation", threshold=0.5, out_scale=0.3)
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(src / "a.tif", rng.integers(0, 256, (150, 170), dtype=np.uint8))
    tifffile.imwrite(src / "b.tif", rng.integers(0, 60000, (2, 64, 80), dtype=np.uint16))
    out = tmp_path / "out"
    code, stdout, err = run_cli(["predict", str(run), str(src), "--out", str(out), "--preview"], capsys)
    assert code == 0, err
    for stem in ("a", "b"):
        png = out / f"{stem}_preview.png"
        assert str(png) in stdout.split()
        im = Image.open(png)
        assert json.loads(im.text["emkit:columns"]) == ["input", "probability", "mask"]
        assert json.loads(im.text["emkit:rows"]) == [f"{stem}.tif"]
    assert "files 2/2" in err and "done in" in err
    # a file skipped with --on-error skip gets no preview (and breaks none)
    (src / "c.tif").write_text("not a tiff")
    code, stdout, err = run_cli(["predict", str(run), str(src), "--out", str(tmp_path / "o3"), "--preview",
                                 "--on-error", "skip"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o3").glob("*.png")) == ["a_preview.png", "b_preview.png"]
    # without --preview no PNG is written
    code, stdout, _ = run_cli(["predict", str(run), str(src / "a.tif"), "--out", str(tmp_path / "o2")], capsys)
    assert code == 0 and not list((tmp_path / "o2").glob("*.png"))


def test_preview_rows_are_strided_and_stretched():
    image = np.arange(1000 * 600, dtype=np.float32).reshape(1, 1000, 600)
    rows = PreviewRows(1000, 600, max_side=256)
    for r0 in range(0, 1000, 37):  # row blocks of any size, as the engine hands them out
        rows.add("input", r0, image[:, r0 : r0 + 37])
    small = rows.panels["input"]
    assert max(small.shape) <= 256 and small[0, 1] == image[0, 0, 4] and small[1, 0] == image[0, 4, 0]
    np.testing.assert_array_equal(small, image[0, ::4, ::4])
    shown = to_uint8(small, "input")
    assert shown.dtype == np.uint8 and shown.min() == 0 and shown.max() == 255
    assert to_uint8(np.array([[0.0, 1.0]]), "prob").tolist() == [[0, 255]]
    assert to_uint8(np.array([[0, 2]]), "mask").tolist() == [[0, 255]]


@needs_unet
def test_restoration_preview_shows_the_residual_on_a_labelled_signed_scale(make_run, tmp_path, capsys):
    run = make_run("unet", {"blocks": 2, "width": 4}, task="denoise", out_scale=0.2)
    image = np.random.default_rng(3).integers(0, 256, (70, 90), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(out), "--preview",
                                 "--save-residual", "--tta", "--spread", "-q"], capsys)
    assert code == 0, err
    png = Image.open(out / "a_preview.png")
    assert json.loads(png.text["emkit:columns"]) == ["input", "prediction", "input - prediction", "TTA spread (std)"]
    scales = json.loads(png.text["emkit:scales"])
    residual = tifffile.imread(out / "a_residual.tif")
    low, high = scales["input - prediction"]
    assert low == -high and high == pytest.approx(np.percentile(np.abs(residual), 99.5), rel=0.02)
    assert scales["TTA spread (std)"][0] == 0 and scales["TTA spread (std)"][1] > 0
    # the residual written is exactly the normalised input minus the written prediction
    pred = tifffile.imread(out / "a_pred.tif")
    np.testing.assert_array_equal(residual, (image / np.float32(255)).astype(np.float32) - pred)
    assert tifffile.imread(out / "a_spread.tif").shape == (70, 90)


def test_a_known_input_and_output_give_the_exact_residual():
    head = OutputHead("image", 1)
    values = np.array([[[0.25, 0.5], [1.0, 0.0]]], np.float32)
    unit = np.array([[[0.75, 0.5], [0.5, 0.125]]], np.float32)
    rows = head.finalize(values, unit)
    np.testing.assert_array_equal(rows["residual"], [[[0.5, 0.0], [-0.5, 0.125]]])
    np.testing.assert_array_equal(rows["pred"], values)
    with pytest.raises(ValueError, match="as many output as input channels"):
        head.finalize(values, np.zeros((3, 2, 2), np.float32))


@needs_unet
def test_segmentation_preview_shows_the_votes_that_disagree(make_run, tmp_path, capsys):
    run = make_run("unet", {"blocks": 2, "width": 4}, task="segmentation", threshold=0.5, out_scale=0.3)
    tifffile.imwrite(tmp_path / "a.tif", np.random.default_rng(5).integers(0, 256, (60, 76), dtype=np.uint8))
    out = tmp_path / "out"
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(out), "--preview", "--tta",
                            "--spread", "-q"], capsys)
    assert code == 0, err
    png = Image.open(out / "a_preview.png")
    assert json.loads(png.text["emkit:columns"]) == ["input", "probability", "mask", "TTA disagreement"]
    assert json.loads(png.text["emkit:scales"]) == {"TTA disagreement": [0.0, 1.0]}
    votes = tifffile.imread(out / "a_spread.tif")
    assert votes.max() > 0 and np.allclose(votes * 8, np.round(votes * 8), atol=1e-5)  # one tile: whole votes
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(out), "--spread"], capsys)
    assert code == 2 and "--spread needs --tta" in err
    code, _, err = run_cli(["predict", str(run), str(tmp_path / "a.tif"), "--out", str(out), "--save-residual"],
                           capsys)
    assert code == 2 and "the residual (input - prediction) exists for restoration models" in err
