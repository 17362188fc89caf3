"""TorchScript export: runs in a fresh interpreter without emkit and matches PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from emkit.export import export_run

from run_support import eager, needs_unet

SMALL = {"blocks": 2, "width": 4}

#: Run in a subprocess: emkit and its plugins cannot even be imported there.
RUNNER = textwrap.dedent(
    """
    import sys, json
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("emkit", "emkit_builtin"):
                raise ImportError("emkit must not be imported by an exported model")
    sys.meta_path.insert(0, Block())
    import numpy as np, torch
    model_path, inputs, outputs = sys.argv[1:4]
    extra = {"emkit_io.json": ""}
    model = torch.jit.load(model_path, _extra_files=extra)
    data = np.load(inputs)
    result = {}
    with torch.no_grad():
        for name in data.files:
            out = model(torch.from_numpy(data[name]))
            outs = out if isinstance(out, tuple) else (out,)
            for i, t in enumerate(outs):
                result[f"{name}_{i}"] = t.numpy()
    np.savez(outputs, **result)
    assert not any(m.split(".")[0] in ("emkit", "emkit_builtin") for m in sys.modules)
    print(json.loads(extra["emkit_io.json"])["output_kind"])
    """
)


def run_without_emkit(model_path, inputs: dict[str, np.ndarray], tmp_path) -> tuple[dict[str, np.ndarray], str]:
    np.savez(tmp_path / "in.npz", **inputs)
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)
    proc = subprocess.run(
        [sys.executable, str(script), str(model_path), str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    with np.load(tmp_path / "out.npz") as data:
        return {k: data[k] for k in data.files}, proc.stdout.strip()


@needs_unet
def test_segmentation_torchscript_matches_pytorch_any_size(make_run, tmp_path):
    run = make_run("unet", SMALL, task="segmentation", threshold=0.4, out_scale=0.3)
    path, description = export_run(run, "torchscript")
    assert path == run / "generator.pt" and description == run / "generator.pt.json"
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (2, 1, 70, 53), dtype=np.uint8)  # not multiples of 4: padded inside
    f32 = rng.random((1, 1, 64, 96), dtype=np.float32)
    outs, kind = run_without_emkit(path, {"u8": u8, "f32": f32}, tmp_path)
    assert kind == "binary"
    ref_u8 = eager(run, u8.astype(np.float32) / 255)
    np.testing.assert_allclose(outs["u8_0"], ref_u8, atol=1e-4, rtol=0)
    np.testing.assert_allclose(outs["f32_0"], eager(run, f32), atol=1e-4, rtol=0)
    assert outs["u8_1"].dtype == np.uint8
    sure = np.abs(ref_u8 - 0.4) > 1e-3
    np.testing.assert_array_equal(outs["u8_1"][sure], (ref_u8 > 0.4)[sure])
    info = json.loads(description.read_text())
    assert info["task"] == "segmentation" and info["spatial"]["size_multiple"] == 4
    assert info["spatial"]["pads_internally"] and info["receptive_field"] == 44
    assert [o["name"] for o in info["outputs"]] == ["probability", "mask"]


@needs_unet
def test_restoration_torchscript_matches_pytorch(make_run, tmp_path):
    run = make_run("unet", {"blocks": 3, "width": 4}, task="denoise", out_scale=0.2)
    path, _ = export_run(run, "torchscript", tmp_path / "exported" / "model.pt")
    f32 = np.random.default_rng(1).random((1, 1, 96, 80), dtype=np.float32)
    outs, kind = run_without_emkit(path, {"x": f32}, tmp_path)
    assert kind == "image"
    ref = eager(run, f32)
    assert ref.std() > 0.05
    np.testing.assert_allclose(outs["x_0"], ref, atol=1e-4, rtol=0)
    assert (tmp_path / "exported" / "model.pt.json").exists()


@needs_unet
def test_hrnet_torchscript_is_shape_dynamic(make_run, tmp_path):
    config = {"stem_width": 8, "stage1_width": 4, "stage1_blocks": 1, "widths": [4, 8, 16, 32],
              "modules": [1, 1, 1], "blocks": [1, 1, 1], "decoder_widths": [8, 8, 4]}
    run = make_run("hrnet", config, task="denoise", out_scale=0.2)
    path, _ = export_run(run, "torchscript")
    f32 = np.random.default_rng(2).random((1, 1, 96, 160), dtype=np.float32)  # trace used 128 x 128
    outs, _ = run_without_emkit(path, {"x": f32}, tmp_path)
    np.testing.assert_allclose(outs["x_0"], eager(run, f32), atol=1e-4, rtol=0)


def test_bad_format_is_reported(tmp_path):
    from emkit.errors import EmkitError

    with pytest.raises(EmkitError, match="--format must be one of torchscript, onnx"):
        export_run(tmp_path, "tflite")
