"""Exported models read integer images the way training and ``emkit predict`` do.

Every integer type's range maps onto [0, 1] (minimum 0, maximum 1; ``plugin_api.to_unit``):
the TorchScript model takes any type (checked in a fresh interpreter without emkit), an
ONNX model the type it was exported for (checked in onnxruntime). The reference is the
run's generator in PyTorch on the image mapped by numpy here, not by emkit's code.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from emkit.export import export_run
from emkit.export.onnx import ONNX_INPUT_DTYPES

from run_support import eager, needs_unet
from test_export_torchscript import run_without_emkit

SMALL = {"blocks": 2, "width": 4}
TORCHSCRIPT_TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64]


def image_of(dtype, shape, seed=0):
    """Random pixels over the whole range of ``dtype``, its minimum and maximum included."""
    info = np.iinfo(dtype)
    x = np.random.default_rng(seed).integers(int(info.min), int(info.max), shape, dtype=dtype, endpoint=True)
    x.reshape(-1)[:2] = info.min, info.max
    return x


def unit_of(x: np.ndarray) -> np.ndarray:
    info = np.iinfo(x.dtype)
    return ((x.astype(np.float64) - float(info.min)) / (float(info.max) - float(info.min))).astype(np.float32)


@pytest.fixture(scope="module")
def restoration_run(tmp_path_factory):
    from run_support import write_run

    return write_run(tmp_path_factory.mktemp("int_inputs"), "unet", SMALL, task="denoise", out_scale=0.2)


@needs_unet
def test_torchscript_maps_every_integer_type_by_its_range(restoration_run, tmp_path):
    path, description = export_run(restoration_run, "torchscript", tmp_path / "m.pt")
    inputs = {np.dtype(t).name: image_of(t, (1, 1, 37, 50)) for t in TORCHSCRIPT_TYPES}  # padded inside
    outs, _ = run_without_emkit(path, inputs, tmp_path)
    for name, x in inputs.items():
        ref = eager(restoration_run, unit_of(x))
        assert ref.std() > 0.05, name
        np.testing.assert_allclose(outs[f"{name}_0"], ref, atol=1e-4, rtol=0, err_msg=name)
    info = json.loads(description.read_text())["inputs"][0]
    assert "any integer type" in info["dtype"] and "int16 -32768 -> 0" in info["meaning"]


@needs_unet
@pytest.mark.parametrize("dtype", [d for d in ONNX_INPUT_DTYPES if d != "float32"])
def test_onnx_maps_its_integer_input_type_by_its_range(restoration_run, tmp_path, dtype):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path, description = export_run(restoration_run, "onnx", tmp_path / f"{dtype}.onnx", input_dtype=dtype)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].type == f"tensor({dtype})"
    x = image_of(np.dtype(dtype), (2, 1, 48, 64), seed=1)
    (out,) = session.run(None, {"input": x})
    np.testing.assert_allclose(out, eager(restoration_run, unit_of(x)), atol=1e-4, rtol=0)
    info = np.iinfo(np.dtype(dtype))
    assert json.loads(description.read_text())["inputs"][0]["range"] == [int(info.min), int(info.max)]
