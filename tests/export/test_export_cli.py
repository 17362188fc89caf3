"""``emkit export`` from the command line."""

from __future__ import annotations

import json

import pytest


from run_support import needs_unet, run_cli


@needs_unet
def test_export_torchscript_and_onnx_from_cli(make_run, tmp_path, capsys):
    pytest.importorskip("onnx")
    run = make_run("unet", {"blocks": 2, "width": 4}, task="segmentation")
    code, out, err = run_cli(["export", str(run), "--format", "torchscript"], capsys)
    assert code == 0, err
    assert out.split() == [str(run / "generator.pt"), str(run / "generator.pt.json")]
    target = tmp_path / "models" / "seg.onnx"
    code, out, err = run_cli(["export", str(run / "generator.safetensors"), "--format", "onnx", "--out", str(target)],
                             capsys)
    assert code == 0, err
    assert target.exists() and json.loads((tmp_path / "models" / "seg.onnx.json").read_text())["format"] == "onnx"


def test_export_errors_are_one_line(tmp_path, capsys):
    code, _, err = run_cli(["export", str(tmp_path / "none"), "--format", "onnx"], capsys)
    assert code == 2 and "none: no such run directory" in err
    code, _, err = run_cli(["export", str(tmp_path), "--format", "keras"], capsys)
    assert code == 2 and "--format must be one of" in err
