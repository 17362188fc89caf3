"""``emkit.export.bioimageio.load_package``: metadata, predictions equal to the package's test
outputs and to ``emkit predict``, and a halo that makes tiled prediction exact."""

from __future__ import annotations

import io
import shutil
import zipfile

import numpy as np
import pytest
import yaml

from emkit.data.intensity import resolve_for_prediction
from emkit.errors import EmkitError
from emkit.export.bioimageio import load_package
from emkit.export.bioimageio import validate as validation
from emkit.export.bioimageio.preprocessing import apply_steps
from emkit.data.build import build_dataset
from emkit.predict import load_model
from emkit.predict.tiled_predictor import TiledPredictor, TileSettings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _npy(package, name):
    with zipfile.ZipFile(package) as zf:
        return np.load(io.BytesIO(zf.read(name)))


@pytest.fixture(scope="module")
def big_image():
    """A 160 x 160 uint8 validation image of the same synthetic data (larger than the test tensor)."""
    return build_dataset("synthetic-stem", {"size": 160}, "val")[0]["image"].numpy()[0]


def test_metadata_and_test_outputs_from_zip_folder_and_rdf(seg_package, trained_seg_run, tmp_path):
    folder = tmp_path / "unpacked"
    shutil.unpack_archive(seg_package, folder, "zip")
    x = _npy(seg_package, "test_input.npy")
    for source in (seg_package, folder, folder / "rdf.yaml"):
        pkg = load_package(source)
        assert pkg.task == "segmentation" and pkg.output_kind == "binary" and pkg.threshold == 0.4
        assert pkg.halo == 24 and pkg.size_multiple == 4 and pkg.name == "emkit seg unet segmentation"
        out = pkg.predict_all(x[0, 0])
        np.testing.assert_allclose(out["probability"], _npy(seg_package, "test_output_probability.npy")[0, 0],
                                   atol=1e-6)
        np.testing.assert_array_equal(out["mask"], _npy(seg_package, "test_output_mask.npy")[0, 0])
        assert pkg.predict(x[0, 0]).shape == (64, 64)
        # the attached training-input statistics load and compare as the run's own do
        from emkit.data.input_stats import array_features, compare, load_stats

        run_stats = load_stats(trained_seg_run)
        assert len(pkg.input_stats.features) == len(run_stats.features) > 0
        unit = x[0, 0] / np.float32(255)
        assert compare(pkg.input_stats, array_features(unit)).ratio == pytest.approx(
            compare(run_stats, array_features(unit)).ratio, rel=1e-3)


def test_predict_equals_emkit_predict(seg_package, trained_seg_run, big_image):
    """The package (fed the image's values as floats) gives what ``emkit predict`` gives for the uint8 file."""
    model = load_model(trained_seg_run)
    rule = resolve_for_prediction("run", model.run_data)
    scaling = rule.fit(big_image.dtype, lambda limit: big_image.reshape(-1))
    predictor = TiledPredictor(model.generator, model.head, TileSettings(tile=128))  # 128 px tiles: exact overlap
    expected = predictor.predict_array(big_image, scaling)[0]
    got = load_package(seg_package).predict(big_image.astype(np.float32)[:150, :141])  # any size (TorchScript pads)
    whole = load_package(seg_package).predict(big_image.astype(np.float32))
    np.testing.assert_allclose(whole, expected, atol=1e-5)
    assert got.shape == (150, 141)


def _tiled(pkg, seen, tile, keep_margin):
    """Tiles of side ``tile`` starting on multiples of the size multiple, each output kept only
    ``keep_margin`` px away from interior tile edges (what a tiler honouring ``halo`` does)."""
    import torch

    h, w = seen.shape[-2:]
    step = tile - 2 * keep_margin
    out = np.full((h, w), np.nan, np.float32)
    ys = sorted({*range(0, h - tile, step), h - tile})
    xs = sorted({*range(0, w - tile, step), w - tile})
    for y in ys:
        for x in xs:
            with torch.inference_mode():
                prob = pkg.module(torch.from_numpy(seen[..., y : y + tile, x : x + tile]))[0].numpy()[0, 0]
            t = keep_margin if y > 0 else 0
            lft = keep_margin if x > 0 else 0
            out[y + t : y + tile, x + lft : x + tile] = prob[t:, lft:]
    return out


def test_halo_makes_tiled_prediction_exact(seg_package, big_image):
    pkg = load_package(seg_package)
    seen = apply_steps(pkg.preprocessing, big_image[None, None].astype(np.float32))
    whole = pkg.predict(big_image.astype(np.float32))
    tile = 88  # 52 + 9 * 4: a valid size; starts are multiples of 4
    exact = _tiled(pkg, seen, tile, pkg.halo)
    assert not np.isnan(exact).any()
    assert np.abs(exact - whole).max() < 1e-5
    # the same tiling with a margin below the halo is visibly wrong: the check can fail
    short = _tiled(pkg, seen, tile, pkg.halo - 16)
    assert np.abs(short - whole).max() > 1e-3


@pytest.mark.skipif(not validation.available(), reason="bioimage.io core is not installed")
def test_bioimageio_core_tiles_agree_with_its_whole_image_prediction(seg_package, big_image):
    """bioimage.io core itself, tiling with the declared halo, reproduces its own whole-image result."""
    import warnings

    from bioimageio.core import Tensor, load_description, predict
    from loguru import logger

    logger.disable("bioimageio")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's notice
        warnings.simplefilter("ignore", RuntimeWarning)  # core fills its uint8 mask buffer with NaN first
        descr = load_description(str(seg_package))
        x = Tensor.from_numpy(big_image.astype(np.float32)[None, None], dims=("batch", "channel", "y", "x"))
        whole = predict(model=descr, inputs={"input": x}).members["probability"].data.values
        tiled = predict(model=descr, inputs={"input": x}, blocksize_parameter=15).members["probability"].data.values
    assert np.abs(whole - tiled).max() < 1e-5
    # and away from the image border (where core pads by the halo) it equals emkit's prediction
    ours = load_package(seg_package).predict(big_image.astype(np.float32))
    h = load_package(seg_package).halo
    assert np.abs(whole[0, 0, h:-h, h:-h] - ours[h:-h, h:-h]).max() < 1e-5


def test_bad_packages_give_one_clear_error(seg_package, tmp_path):
    with pytest.raises(EmkitError, match="no such package file or folder"):
        load_package(tmp_path / "missing.zip")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(EmkitError, match="expected a bioimage.io package"):
        load_package(text)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README.md", "nothing")
    with pytest.raises(EmkitError, match="lacks rdf.yaml"):
        load_package(empty)
    folder = tmp_path / "pkg"
    shutil.unpack_archive(seg_package, folder, "zip")
    rdf = yaml.safe_load((folder / "rdf.yaml").read_text())
    (folder / "weights_torchscript.pt").write_bytes(b"not a model")
    with pytest.raises(EmkitError, match="weights_torchscript.pt is not a TorchScript archive"):
        load_package(folder)
    del rdf["weights"]["torchscript"]
    (folder / "rdf.yaml").write_text(yaml.safe_dump(rdf))
    with pytest.raises(EmkitError, match="has no TorchScript weights"):
        load_package(folder)
    with pytest.raises(EmkitError, match="expected a 2-D image"):
        load_package(seg_package).predict(np.zeros((2, 1, 8, 8)))
