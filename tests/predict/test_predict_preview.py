"""``emkit predict --preview``: a labelled PNG beside the TIFFs of each input."""

from __future__ import annotations

import json

import numpy as np
import tifffile
from PIL import Image

from emkit.predict.preview import read_first_image, to_uint8

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


def test_large_images_are_strided_and_stretched(tmp_path):
    image = np.arange(1000 * 600, dtype=np.float32).reshape(1000, 600)
    tifffile.imwrite(tmp_path / "big.tif", image)
    small = read_first_image(tmp_path / "big.tif", max_side=256)
    assert max(small.shape) <= 256 and small[0, 1] == image[0, 4] and small[1, 0] == image[4, 0]
    shown = to_uint8(small, "input")
    assert shown.dtype == np.uint8 and shown.min() == 0 and shown.max() == 255
    assert to_uint8(np.array([[0.0, 1.0]]), "prob").tolist() == [[0, 255]]
    assert to_uint8(np.array([[0, 2]]), "mask").tolist() == [[0, 255]]
