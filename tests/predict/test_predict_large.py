"""A TIFF larger than 8k × 8k goes through ``emkit predict`` in strips, in bounded memory.

A cheap generator (the contract kit's TinyGenerator, two 3×3 convolutions: receptive field 5) keeps
this fast; what is tested is the streaming: the input is read and the output written a
strip at a time, so the process never holds either image whole.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import tifffile
import torch

from emkit.cli.app import main
from emkit.predict import load_model

H, W = 8200, 8300


def _write_input(path) -> None:
    """A uint8 TIFF of H × W written block by block (the test itself never holds it whole)."""
    mm = tifffile.memmap(path, shape=(H, W), dtype=np.uint8, photometric="minisblack")
    rng = np.random.default_rng(0)
    for r in range(0, H, 1024):
        mm[r : r + 1024] = rng.integers(0, 256, (min(1024, H - r), W), dtype=np.uint8)
    mm.flush()
    del mm


def _expected(run, image: np.ndarray) -> np.ndarray:
    model = load_model(run)
    with torch.no_grad():
        y = model.generator(torch.from_numpy(image / 255.0).float()[None, None] * 2 - 1)
        return model.head.activate(y)[0, 0].numpy()


def test_huge_tiff_is_predicted_in_strips(fake_plugins, make_run, tmp_path, capsys):
    fake_plugins(("generator", "tiny", "fake_emkit_plugins:TinyGenerator", "tinydist"))
    run = make_run("tiny", {}, task="denoise", out_scale=0.3)
    src = tmp_path / "huge.tif"
    _write_input(src)
    out = tmp_path / "out"

    tracemalloc.start()
    try:
        main(["predict", str(run), str(src), "--out", str(out), "--tile", "1024", "--batch", "4", "-q"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    capsys.readouterr()
    print(f"peak traced numpy memory: {peak / 2**20:.0f} MiB")

    pred_path = out / "huge_pred.tif"
    output_bytes = H * W * 4
    # numpy buffers (strips, band of output rows, tile batches) stay far below one whole output image
    assert peak < output_bytes / 2, f"peak traced memory {peak / 2**20:.0f} MiB"

    pred = tifffile.memmap(pred_path, mode="r")
    image = tifffile.memmap(src, mode="r")
    assert pred.shape == (H, W) and pred.dtype == np.float32
    # rows crossing a tile seam (tiles start every ~1000 rows) and the image corners; the
    # reference slabs reach 2 px (half the receptive field) beyond what is compared
    np.testing.assert_allclose(pred[3990:4100], _expected(run, np.asarray(image[3988:4102]))[2:-2], atol=1e-5)
    np.testing.assert_allclose(pred[:60, :60], _expected(run, np.asarray(image[:62, :62]))[:60, :60], atol=1e-5)
    np.testing.assert_allclose(pred[-60:, -60:], _expected(run, np.asarray(image[-62:, -62:]))[-60:, -60:],
                               atol=1e-5)
    del pred, image
