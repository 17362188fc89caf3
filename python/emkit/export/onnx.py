"""ONNX export of the wrapped generator, with dynamic batch, height and width.

The wrapper (``export.wrapper``, ``pad=False``) is traced by ``torch.onnx.export``'s
TorchScript-based exporter (``dynamo=False``: it needs no ``onnxscript`` and keeps the
spatial axes dynamic for the built-in generators). H and W must divide by
``size_multiple`` (the I/O description says so). The input dtype (float32 in [0, 1] or
uint8) is fixed at export time. The I/O description is embedded as the model property
``emkit_io`` and written beside the file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from emkit.errors import EmkitError
from emkit.export.wrapper import INPUT_NAME, output_names, wrap
from emkit.predict.model_loading import LoadedModel

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
    head = model.head
    module = wrap(model.generator.cpu().eval(), head.kind, model.size_multiple, pad=False,
                  threshold=head.threshold)
    side = max(4 * model.size_multiple, 64)
    side = -(-side // model.size_multiple) * model.size_multiple
    if input_dtype == "uint8":
        example = torch.randint(0, 256, (1, model.in_channels, side, side), dtype=torch.uint8)
    elif input_dtype == "float32":
        example = torch.rand(1, model.in_channels, side, side)
    else:
        raise EmkitError(f"--input-dtype must be float32 or uint8, got {input_dtype!r}")
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
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(description)})
    onnx.save(proto, str(path))
    return path
