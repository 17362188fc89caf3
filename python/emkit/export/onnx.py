"""ONNX export of the wrapped generator, with dynamic batch, height and width.

The wrapper (``export.wrapper``, ``pad=False``) is traced by ``torch.onnx.export``'s
TorchScript-based exporter (``dynamo=False``: it needs no ``onnxscript`` and keeps the
spatial axes dynamic for the built-in generators). H and W must divide by
``size_multiple`` (the I/O description says so). The input type is fixed at export time
(``ONNX_INPUT_DTYPES``: float32 in [0, 1], or an integer type mapped by its range as
``plugin_api.to_unit`` does). torch's exporter cannot trace uint16, so a uint16 model is
traced on int32 input told to map 0..65535 (``wrap(stored_range=...)``) and its graph
input is then declared uint16: the first node casts it to float either way. The I/O
description is embedded as the model property ``emkit_io`` and written beside the file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from emkit.errors import EmkitError
from emkit.export.wrapper import INPUT_NAME, output_names, wrap
from emkit.predict.model_loading import LoadedModel

#: Input types an ONNX export can be fixed to (TorchScript exports take any of them).
ONNX_INPUT_DTYPES = ("float32", "uint8", "int8", "uint16", "int16", "int32")
#: Opset used by default (onnxruntime >= 1.12 runs it).
OPSET = 17
METADATA_KEY = "emkit_io"


def export_onnx(model: LoadedModel, path: Path, description: dict, *, input_dtype: str = "float32",
                opset: int = OPSET) -> Path:
    """Write ``path`` (.onnx); raises ``EmkitError`` when the onnx package is missing."""
    try:
        import onnx
    except ImportError:
        raise EmkitError("exporting to ONNX needs the 'onnx' package: pip install 'emkit[export]'") from None
    check_input_dtype(input_dtype)
    head = model.head
    traced_as = "int32" if input_dtype == "uint16" else input_dtype
    module = wrap(model.generator.cpu().eval(), head.kind, model.size_multiple, pad=False,
                  threshold=head.threshold, stored_range=(0.0, 65535.0) if input_dtype == "uint16" else None)
    side = max(4 * model.size_multiple, 64)
    side = -(-side // model.size_multiple) * model.size_multiple
    example = example_input((1, model.in_channels, side, side), traced_as)
    names = output_names(head.kind)
    axes = {name: {0: "N", 2: "H", 3: "W"} for name in [INPUT_NAME, *names]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings of the legacy exporter
        torch.onnx.export(
            module, (example,), str(path), dynamo=False, input_names=[INPUT_NAME], output_names=names,
            dynamic_axes=axes, opset_version=opset, do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    if input_dtype == "uint16":
        proto.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.UINT16
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(description)})
    onnx.save(proto, str(path))
    return path


def check_input_dtype(input_dtype: str) -> None:
    """``EmkitError`` unless ``input_dtype`` is one of ``ONNX_INPUT_DTYPES``."""
    if input_dtype not in ONNX_INPUT_DTYPES:
        raise EmkitError(f"--input-dtype must be one of {', '.join(ONNX_INPUT_DTYPES)}, got {input_dtype!r}")


def example_input(shape: tuple[int, ...], dtype: str) -> torch.Tensor:
    """A random tracing input of ``dtype`` spanning its range ([0, 1) for float32)."""
    if dtype == "float32":
        return torch.rand(shape)
    info = torch.iinfo(getattr(torch, dtype))
    return torch.randint(max(info.min, -(2**31)), min(info.max, 2**31 - 1), shape, dtype=getattr(torch, dtype))
