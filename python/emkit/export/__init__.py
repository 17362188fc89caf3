"""Self-contained exports of trained generators: TorchScript and ONNX.

``export_run(run, fmt)`` loads a run (``predict.model_loading``), wraps the generator
with its input normalisation and output post-processing (``wrapper``), writes the
model file and its I/O description (``description``) as ``<file>.json`` beside it.
bioimage.io model packages (both formats, test tensors, documentation) are written by
``emkit.export.bioimageio``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from emkit.storage.atomic import write_atomic, write_text_atomic
from emkit.errors import EmkitError

FORMATS = {"torchscript": ".pt", "onnx": ".onnx"}


def default_path(run: str | Path, fmt: str) -> Path:
    """``<run>/generator.<ext>``, or beside a lone weights file."""
    p = Path(run)
    base = p / "generator" if p.is_dir() else p.with_suffix("")
    return base.with_name(base.name + FORMATS[fmt])


def export_run(run: str | Path, fmt: str, out: Optional[str | Path] = None, *, input_dtype: str = "float32",
               opset: Optional[int] = None) -> tuple[Path, Path]:
    """Export ``run`` as ``fmt``; returns (model file, description JSON)."""
    from emkit.export.description import describe
    from emkit.predict.model_loading import load_model

    if fmt not in FORMATS:
        raise EmkitError(f"--format must be one of {', '.join(FORMATS)}, bioimageio, got {fmt!r}")
    from emkit.export.onnx import check_input_dtype

    check_input_dtype(input_dtype)
    path = Path(out) if out is not None else default_path(run, fmt)
    if path.is_dir():
        path = path / default_path("generator.safetensors", fmt).name
    model = load_model(run, "cpu")
    info = describe(model, fmt=fmt, file=path.name, input_dtype=input_dtype, pads=fmt == "torchscript")
    if fmt == "torchscript":
        from emkit.export.torchscript import export_torchscript

        write_atomic(path, lambda tmp: export_torchscript(model, tmp, info))
    else:
        from emkit.export.onnx import OPSET, export_onnx

        write_atomic(path, lambda tmp: export_onnx(model, tmp, info, input_dtype=input_dtype, opset=opset or OPSET))
    json_path = path.with_name(path.name + ".json")
    write_text_atomic(json_path, json.dumps(info, indent=1))
    return path, json_path
