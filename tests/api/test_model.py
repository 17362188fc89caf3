"""``emkit.load(...).predict``: the numbers ``emkit predict`` writes, for runs and packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

import emkit
from emkit.errors import DataError, EmkitError
from emkit.testing.fixtures import one_thread, run_emkit  # noqa: F401 (one_thread: autouse)

TINY = ["generator=unet", "generator.blocks=2", "generator.width=4", "train.batch_size=4", "train.device=cpu",
        "train.epochs=1", "data.size=64", "data.length=8", "data.val_length=2", "data.test_length=2",
        "task.crop=32"]


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> emkit.Run:  # noqa: ANN001
    return emkit.train("task=segmentation", "data=synthetic-hrtem", *TINY, runs_dir=tmp_path_factory.mktemp("r"),
                       progress=False)


@pytest.fixture(scope="module")
def restore_run(tmp_path_factory) -> emkit.Run:  # noqa: ANN001
    return emkit.train("task=denoise", "data=synthetic-stem", *TINY, runs_dir=tmp_path_factory.mktemp("d"),
                       progress=False)


def cli_predict(run: emkit.Run, image: np.ndarray, tmp_path: Path, *extra: str) -> Path:
    tifffile.imwrite(tmp_path / "in.tif", image)
    proc = run_emkit("predict", str(run.path), str(tmp_path / "in.tif"), "--out", str(tmp_path / "out"),
                     "--tile", "64", "--device", "cpu", "-q", *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tmp_path / "out"


def test_segmentation_equals_emkit_predict(seg_run, tmp_path) -> None:  # noqa: ANN001
    image = (emkit.synthesize("hrtem", 1, size=150, seed=4, split="test").image[0] * 65535).astype(np.uint16)
    out = cli_predict(seg_run, image, tmp_path)
    model = emkit.load(seg_run.path)
    assert model.task == "segmentation" and model.kind == "binary"
    outs = model.predict_all(image, tile=64)
    np.testing.assert_array_equal(outs["prob"], tifffile.imread(out / "in_prob.tif"))
    np.testing.assert_array_equal(outs["mask"], tifffile.imread(out / "in_mask.tif"))
    np.testing.assert_array_equal(model.predict(image, tile=64), outs["mask"])


def test_restoration_stack_with_tta_equals_emkit_predict(restore_run, tmp_path) -> None:  # noqa: ANN001
    stack = emkit.synthesize("stem", 2, size=96, seed=5, split="test").image.astype(np.float32)
    out = cli_predict(restore_run, stack, tmp_path, "--tta")
    restored = emkit.load(restore_run).predict(stack, tile=64, tta=True)
    assert restored.shape == (2, 96, 96) and restored.dtype == np.float32
    np.testing.assert_array_equal(restored, tifffile.imread(out / "in_pred.tif"))


def test_torch_input_and_progress(restore_run) -> None:  # noqa: ANN001
    import torch

    model = restore_run.load()
    seen: list[int] = []
    image = torch.rand(100, 70)
    out = model.predict(image, tile=64, on_tiles=seen.append)
    assert out.shape == (100, 70) and sum(seen) == model.count_tiles(100, 70, tile=64) > 1


def test_package_round_trip(restore_run, tmp_path) -> None:  # noqa: ANN001
    model = emkit.load(restore_run.path)
    package = model.export("bioimageio", tmp_path / "m.bioimageio.zip")
    again = emkit.load(package)
    assert again.task == "denoise" and again.kind == "image"
    image = emkit.synthesize("stem", 1, size=64, seed=6, split="test").image[0]
    from_run, from_package = model.predict(image, tile=64), again.predict(image)
    assert from_package.shape == from_run.shape == (64, 64)
    assert float(np.abs(from_run - from_package).max()) < 0.05  # the package normalises by its own steps
    with pytest.raises(EmkitError, match="already an exported package"):
        again.export("onnx")


def test_torchscript_export(restore_run, tmp_path) -> None:  # noqa: ANN001
    path = emkit.load(restore_run).export("torchscript", tmp_path / "g.pt")
    assert path == tmp_path / "g.pt" and path.is_file() and path.with_name("g.pt.json").is_file()


@pytest.mark.parametrize(("image", "options", "error", "message"), [
    (np.ones(5), {}, DataError, r"image: expected a 2-D image"),
    (np.array([["a"]]), {}, DataError, "unsupported pixel type"),
    (np.full((32, 32), np.nan, np.float32), {}, EmkitError, "NaN"),
    (np.ones((32, 32)), {"tile": 0}, EmkitError, "tile=0: expected a positive number"),
    (np.ones((32, 32)), {"overlap": -1}, EmkitError, "overlap=-1"),
    (np.ones((32, 32)), {"nan": "maybe"}, EmkitError, "nan='maybe'"),
])
def test_bad_inputs_are_one_line(restore_run, image, options, error, message) -> None:  # noqa: ANN001
    with pytest.raises(error, match=message):
        emkit.load(restore_run).predict(image, **options)


def test_bad_paths_and_devices(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(EmkitError, match="no such run folder"):
        emkit.load(tmp_path / "missing")
    with pytest.raises(EmkitError, match="device='gpu'"):
        emkit.load(tmp_path, device="gpu")


def test_best_weights_use_the_run_normalisation(tmp_path) -> None:  # noqa: ANN001
    run = emkit.train("task=segmentation", "data=synthetic-hrtem", *TINY, "train.epochs=2",
                      "train.keep_best=val_dice", runs_dir=tmp_path, progress=False)
    best = run.load("best")
    assert best.config == run.config  # config.yaml found one folder up from best/


def test_fine_tune_from_a_package(restore_run, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = emkit.load(restore_run).export("bioimageio", tmp_path / "m.bioimageio.zip")
    run = emkit.train("task=denoise", "data=synthetic-stem", *TINY, init=package, runs_dir=tmp_path / "r",
                      progress=False)
    assert run.finished and run.config["init"] == str(package)
    assert run.config["generator"]["width"] == 4  # the package's generator, not the default one
    assert list((tmp_path / "cache" / "emkit" / "packages").glob("*/generator.safetensors"))
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(EmkitError, match="not a zip archive"):
        emkit.train("task=denoise", "data=synthetic-stem", *TINY, init=tmp_path / "x.zip", runs_dir=tmp_path / "r",
                    progress=False)


def test_residual_spread_and_input_check_equal_emkit_predicts(restore_run, tmp_path) -> None:  # noqa: ANN001
    """``residual``/``spread`` are the TIFFs ``--save-residual --tta --spread`` write; ``check_input`` the CSV row."""
    import csv

    stack = emkit.synthesize("stem", 2, size=96, seed=6, split="test").image.astype(np.float32)
    out = cli_predict(restore_run, stack, tmp_path, "--tta", "--spread", "--save-residual")
    model = emkit.load(restore_run)
    outs = model.predict_all(stack, tile=64, tta=True, spread=True, residual=True)
    assert set(outs) == {"pred", "residual", "spread"}
    for name in outs:
        np.testing.assert_array_equal(outs[name], tifffile.imread(out / f"in_{name}.tif"))
    assert model.input_stats is not None and model.input_stats_note is None  # the run recorded them
    rows = list(csv.DictReader((out / "input_check.csv").open()))
    for image, row in zip(stack, rows):
        assert model.check_input(image).ratio == pytest.approx(float(row["distance"]), abs=1e-3)
    with pytest.raises(EmkitError, match="spread=True needs tta=True"):
        model.predict_all(stack[0], spread=True)
