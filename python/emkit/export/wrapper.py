"""The exported network: normalisation + generator + output post-processing in one module.

Input: ``(N, C, H, W)``, float in [0, 1] or any integer type, mapped to [0, 1] by
``plugin_api.to_unit`` (uint8 ``/255``, uint16 ``/65535``, signed types by their full
range: int16 -32768 → 0, 32767 → 1). Inside: model space ``plugin_api.to_model``, the
generator, then the run's output space (``predict.postprocess``):

* ``ImageExport``       → ``image``: ``from_model(y)`` clamped to [0, 1], float32;
* ``BinaryExport``      → ``probability`` (sigmoid, float32) and ``mask`` (uint8, > threshold);
* ``MulticlassExport``  → ``probability`` (softmax over C, float32) and ``mask`` (uint8 argmax).

The image-space and padding functions are the plugin API's own (``emkit.plugin_api``),
compiled into the module by ``torch.jit.script``: the result needs no emkit code to run,
and it maps intensities exactly as training and ``emkit predict`` do. With ``pad=True``
the module pads H and W to ``size_multiple`` itself (``pad_to_multiple``, as the
generators do) and crops back, so any size works; ONNX exports use ``pad=False`` and
document that H and W must divide by ``size_multiple``.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from emkit.plugin_api.image_space import from_model, integer_to_unit, to_model, to_unit
from emkit.plugin_api.padding import crop, pad_to_multiple


class _ExportBase(nn.Module):
    """Input normalisation, optional padding and the generator (``core``).

    ``stored_range``: map integer input from this ``(min, max)`` instead of its dtype's
    (ONNX's uint16 models are traced on int32 input, see ``export.onnx``).
    """

    def __init__(self, core: nn.Module, multiple: int, pad: bool,
                 stored_range: Optional[Tuple[float, float]] = None) -> None:
        super().__init__()
        self.core = core
        self.multiple = int(multiple)
        self.pad = bool(pad)
        self.by_dtype = stored_range is None
        self.stored_lo, self.stored_hi = (float(v) for v in stored_range or (0.0, 0.0))

    def _model_output(self, x: torch.Tensor) -> torch.Tensor:
        unit = to_unit(x) if self.by_dtype else integer_to_unit(x, self.stored_lo, self.stored_hi)
        z = to_model(unit)
        if not self.pad:
            return self.core(z)
        padded, box = pad_to_multiple(z, self.multiple)
        return crop(self.core(padded), box)


class ImageExport(_ExportBase):
    """Restoration / pretext generators: one output, the image in [0, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return from_model(self._model_output(x)).clamp(0.0, 1.0)


class BinaryExport(_ExportBase):
    """Binary segmentation: foreground probability and thresholded mask."""

    def __init__(self, core: nn.Module, multiple: int, pad: bool, threshold: float,
                 stored_range: Optional[Tuple[float, float]] = None) -> None:
        super().__init__(core, multiple, pad, stored_range)
        self.threshold = float(threshold)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        prob = torch.sigmoid(self._model_output(x))
        return prob, (prob > self.threshold).to(torch.uint8)


class MulticlassExport(_ExportBase):
    """Multi-class segmentation: class probabilities and the argmax label map."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        prob = torch.softmax(self._model_output(x), dim=1)
        return prob, torch.argmax(prob, dim=1, keepdim=True).to(torch.uint8)


def wrap(core: nn.Module, kind: str, multiple: int, *, pad: bool, threshold: float = 0.5,
         stored_range: Optional[Tuple[float, float]] = None) -> nn.Module:
    """The export module for an output ``kind`` (``image`` / ``binary`` / ``multiclass``)."""
    if kind == "image":
        return ImageExport(core, multiple, pad, stored_range).eval()
    if kind == "binary":
        return BinaryExport(core, multiple, pad, threshold, stored_range).eval()
    if kind == "multiclass":
        return MulticlassExport(core, multiple, pad, stored_range).eval()
    raise ValueError(f"unknown output kind {kind!r}")


#: Name of the input tensor (outputs are named by ``output_names``).
INPUT_NAME = "input"


def output_names(kind: str) -> list[str]:
    return ["image"] if kind == "image" else ["probability", "mask"]
