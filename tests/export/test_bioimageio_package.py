"""``emkit export RUN --format bioimageio``: the package's contents, its rdf, its bioimage.io test."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import tifffile
import yaml
from PIL import Image

from emkit.export.bioimageio import validate as validation
from emkit.predict import load_model
from emkit.predict.tile_grid import halo, round_up
from run_support import needs_unet, run_cli

needs_core = pytest.mark.skipif(not validation.available(),
                                reason="bioimage.io core is not installed (pip install 'emkit[bioimageio]')")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rdf(package):
    with zipfile.ZipFile(package) as zf:
        return yaml.safe_load(zf.read("rdf.yaml")), set(zf.namelist()), zf


def test_rdf_describes_the_run(seg_package, trained_seg_run):
    rdf, names, _ = _rdf(seg_package)
    model = load_model(trained_seg_run)
    m = model.size_multiple
    h = round_up(halo(model.receptive_field, m), m)
    assert rdf["type"] == "model" and rdf["format_version"] == "0.5.12"
    assert rdf["license"] == "MIT" and rdf["authors"] == [{"name": "Test Author"}]
    assert "Kazimi" in rdf["cite"][0]["text"] and rdf["cite"][0]["doi"] == "10.48550/arXiv.2402.18286"
    (inp,) = rdf["inputs"]
    assert [a.get("id", a["type"]) for a in inp["axes"]] == ["batch", "channel", "y", "x"]
    assert inp["axes"][2]["size"] == {"min": 2 * h + m, "step": m}
    # the run trained on uint8 images with normalize=auto: divide by 255, as emkit predict does
    assert [s["id"] for s in inp["preprocessing"]] == ["ensure_dtype", "scale_linear", "ensure_dtype"]
    assert inp["preprocessing"][1]["kwargs"]["gain"] == pytest.approx(1 / 255)
    assert [o["id"] for o in rdf["outputs"]] == ["probability", "mask"]
    for out in rdf["outputs"]:
        spatial = [a for a in out["axes"] if a["type"] == "space"]
        assert [a["halo"] for a in spatial] == [h, h] and spatial[0]["size"] == {"tensor_id": "input", "axis_id": "y"}
    assert rdf["outputs"][1]["data"] == {"type": "uint8", "values": [0, 1]}
    assert set(rdf["weights"]) == {"torchscript", "onnx"} and rdf["weights"]["onnx"]["parent"] == "torchscript"
    emkit = rdf["config"]["emkit"]
    assert emkit["task"] == "segmentation" and emkit["threshold"] == 0.4 and emkit["halo"] == h
    # the training inputs' statistics travel with the package (the run recorded them when it started)
    assert [a["source"] for a in rdf["attachments"]] == ["config.yaml", "generator.safetensors", "input_stats.json"]
    assert emkit["input_stats"] == "input_stats.json"
    referenced = {rdf["documentation"]["source"], rdf["covers"][0]["source"],
                  *(a["source"] for a in rdf["attachments"]),
                  inp["test_tensor"]["source"], inp["sample_tensor"]["source"],
                  *(w["source"] for w in rdf["weights"].values()),
                  *(o[k]["source"] for o in rdf["outputs"] for k in ("test_tensor", "sample_tensor"))}
    assert referenced | {"rdf.yaml"} == names


def test_package_files_are_real(seg_package, trained_seg_run):
    rdf, _, _ = _rdf(seg_package)
    with zipfile.ZipFile(seg_package) as zf:
        assert zf.read("config.yaml") == (trained_seg_run / "config.yaml").read_bytes()
        x = np.load(io.BytesIO(zf.read("test_input.npy")))
        prob = np.load(io.BytesIO(zf.read("test_output_probability.npy")))
        mask = np.load(io.BytesIO(zf.read("test_output_mask.npy")))
        cover = Image.open(io.BytesIO(zf.read("cover.png")))
        sample = tifffile.imread(io.BytesIO(zf.read("sample_input.tif")))
        readme = zf.read("README.md").decode()
    # a real validation image of the run's synthetic data: uint8 values, not noise in [0, 1]
    assert x.shape == (1, 1, 64, 64) and x.dtype == np.float32 and x.max() > 1 and np.all(x == np.round(x))
    np.testing.assert_array_equal(sample, x[0, 0])
    assert prob.dtype == np.float32 and mask.dtype == np.uint8 and 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(mask, (prob > 0.4).astype(np.uint8))
    assert cover.size[0] == 2 * cover.size[1] and cover.format == "PNG"
    for section in ("## Pre- and post-processing", "## Sizes and tiling", "## Validation", "halo", "deepImageJ",
                    "val split of dataset 'synthetic-stem'"):
        assert section in readme


@needs_core
def test_package_passes_the_bioimageio_test_for_both_weight_formats(seg_package):
    outcome = validation.validate_package(seg_package)
    assert outcome.passed, "\n".join(outcome.lines)
    text = "\n".join(outcome.lines)
    for fmt in ("onnx", "torchscript"):
        assert f"passed Reproduce test outputs from test inputs ({fmt})" in text


@needs_unet
def test_restoration_run_with_a_test_image_file(make_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    run = make_run("unet", {"blocks": 2, "width": 4}, task="denoise", out_scale=0.3)
    image = tmp_path / "frame.tif"
    rng = np.random.default_rng(1)
    tifffile.imwrite(image, rng.normal(3000, 400, (90, 70)).astype(np.uint16))
    out = tmp_path / "pkgs"
    out.mkdir()
    code, stdout, err = run_cli(["export", str(run), "--format", "bioimageio", "--test-image", str(image),
                                 "--out", str(out)] + ([] if validation.available() else ["--no-validate"]), capsys)
    assert code == 0, err
    package = out / "run.bioimageio.zip"
    assert stdout.splitlines()[0] == str(package)
    rdf, _, _ = _rdf(package)
    assert [o["id"] for o in rdf["outputs"]] == ["image"]
    # uint16 under normalize=auto: per-image percentiles, as emkit predict does
    assert [s["id"] for s in rdf["inputs"][0]["preprocessing"]][1:3] == ["scale_range", "clip"]
    with zipfile.ZipFile(package) as zf:
        x = np.load(io.BytesIO(zf.read("test_input.npy")))
    assert x.shape == (1, 1, 88, 68)  # centre crop of the 90x70 file to sides 52 + n * 4
    if validation.available():
        assert "passed Reproduce test outputs from test inputs (onnx)" in stdout
        assert "bioimageio test run.bioimageio.zip: passed" in stdout


def test_bad_inputs_give_one_clear_line(tmp_path, make_run, capsys):
    code, _, err = run_cli(["export", str(tmp_path / "none"), "--format", "bioimageio"], capsys)
    assert code == 2 and err.strip().endswith("none: no such run directory or weights file")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["export", str(tmp_path / "empty"), "--format", "bioimageio"], capsys)
    assert code == 2 and "has no generator.safetensors" in err and len(err.strip().splitlines()) == 1


@needs_unet
def test_unreadable_run_data_asks_for_a_test_image(make_run, capsys):
    run = make_run("unet", {"blocks": 2, "width": 4}, task="denoise", data={"root": "/no/such/folder"})
    code, _, err = run_cli(["export", str(run), "--format", "bioimageio", "--no-validate"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cannot open the run's dataset 'folder'" in err and "pass --test-image FILE" in err


@needs_unet
def test_validate_without_bioimageio_core_is_refused_or_warned(make_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(validation, "available", lambda: False)
    run = make_run("unet", {"blocks": 2, "width": 4}, task="denoise")
    image = tmp_path / "frame.tif"
    tifffile.imwrite(image, np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8))
    code, _, err = run_cli(["export", str(run), "--format", "bioimageio", "--validate"], capsys)
    assert code == 2 and "--validate needs bioimage.io core" in err and "emkit[bioimageio]" in err
    pytest.importorskip("onnx")
    code, out, err = run_cli(["export", str(run), "--format", "bioimageio", "--test-image", str(image)], capsys)
    assert code == 0 and "not validated (bioimage.io core is not installed" in err
    assert (run / "run.bioimageio.zip").exists()
