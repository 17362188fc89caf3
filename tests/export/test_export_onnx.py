"""ONNX export: onnxruntime reproduces PyTorch with dynamic batch, height and width."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emkit.export import export_run

from run_support import eager, needs_unet

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

SMALL = {"blocks": 2, "width": 4}


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@needs_unet
def test_binary_segmentation_in_onnxruntime(make_run, tmp_path):
    run = make_run("unet", SMALL, task="segmentation", threshold=0.5, out_scale=0.3)
    path, description = export_run(run, "onnx")
    assert path == run / "generator.onnx"
    sess = session(path)
    assert [i.name for i in sess.get_inputs()] == ["input"]
    assert [o.name for o in sess.get_outputs()] == ["probability", "mask"]
    shape = sess.get_inputs()[0].shape
    assert shape[0] == "N" and shape[2:] == ["H", "W"]
    x = np.random.default_rng(0).random((3, 1, 68, 100), dtype=np.float32)  # multiples of 4, not the traced size
    prob, mask = sess.run(None, {"input": x})
    ref = eager(run, x)
    np.testing.assert_allclose(prob, ref, atol=1e-4, rtol=0)
    assert mask.dtype == np.uint8
    sure = np.abs(ref - 0.5) > 1e-3
    np.testing.assert_array_equal(mask[sure], (ref > 0.5)[sure])
    info = json.loads(description.read_text())
    assert info["inputs"][0]["dtype"] == "float32" and not info["spatial"]["pads_internally"]
    assert "multiples of 4" in info["spatial"]["constraint"]
    embedded = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(embedded["emkit_io"]) == info


@needs_unet
def test_uint8_input_and_multiclass(make_run, tmp_path):
    run = make_run("unet", {**SMALL, "out_channels": 3}, task="segmentation")
    path, description = export_run(run, "onnx", tmp_path / "m.onnx", input_dtype="uint8")
    x = np.random.default_rng(1).integers(0, 256, (1, 1, 64, 48), dtype=np.uint8)
    prob, mask = session(path).run(None, {"input": x})
    ref = eager(run, x.astype(np.float32) / 255)
    np.testing.assert_allclose(prob, ref, atol=1e-4, rtol=0)
    np.testing.assert_allclose(prob.sum(1), 1.0, atol=1e-5)
    assert mask.shape == (1, 1, 64, 48) and mask.max() <= 2
    info = json.loads(description.read_text())
    assert info["output_kind"] == "multiclass" and info["inputs"][0]["range"] == [0, 255]


@needs_unet
def test_restoration_and_hrnet_in_onnxruntime(make_run, tmp_path):
    run = make_run("unet", {"blocks": 3, "width": 4}, task="denoise", out_scale=0.2, folder="u")
    x = np.random.default_rng(2).random((2, 1, 72, 40), dtype=np.float32)
    (image,) = session(export_run(run, "onnx")[0]).run(None, {"input": x})
    ref = eager(run, x)
    assert ref.std() > 0.05
    np.testing.assert_allclose(image, ref, atol=1e-4, rtol=0)

    config = {"stem_width": 8, "stage1_width": 4, "stage1_blocks": 1, "widths": [4, 8, 16, 32],
              "modules": [1, 1, 1], "blocks": [1, 1, 1], "decoder_widths": [8, 8, 4]}
    hr = make_run("hrnet", config, pretext="pix2pix", out_scale=0.2, folder="h")
    x = np.random.default_rng(3).random((1, 1, 96, 160), dtype=np.float32)
    (image,) = session(export_run(hr, "onnx")[0]).run(None, {"input": x})
    np.testing.assert_allclose(image, eager(hr, x), atol=1e-4, rtol=0)
