"""The exported network: normalisation + generator + output post-processing in one module.

Input: ``(N, C, H, W)`` uint8 (divided by 255) or float in [0, 1]. Inside: model space
``2x - 1``, the generator, then the run's output space (``predict.postprocess``):

* ``ImageExport``       → ``image``: ``(y + 1) / 2`` clamped to [0, 1], float32;
* ``BinaryExport``      → ``probability`` (sigmoid, float32) and ``mask`` (uint8, > threshold);
* ``MulticlassExport``  → ``probability`` (softmax over C, float32) and ``mask`` (uint8 argmax).

The classes are TorchScript-compatible (no emkit code is needed to run the result).
With ``pad=True`` the module pads H and W to ``size_multiple`` itself exactly as the
generators do (reflection, evenly split) and crops back, so any size works; ONNX
exports use ``pad=False`` and document that H and W must divide by ``size_multiple``.
"""

from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn


class _ExportBase(nn.Module):
    """Input normalisation, optional padding and the generator (``core``)."""

    def __init__(self, core: nn.Module, multiple: int, pad: bool) -> None:
        super().__init__()
        self.core = core
        self.multiple = int(multiple)
        self.pad = bool(pad)

    def _model_output(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            unit = x.to(torch.float32) / 255.0
        else:
            unit = x.to(torch.float32)
        z = unit * 2.0 - 1.0
        if not self.pad:
            return self.core(z)
        h = z.shape[-2]
        w = z.shape[-1]
        ph = (self.multiple - h % self.multiple) % self.multiple
        pw = (self.multiple - w % self.multiple) % self.multiple
        if ph == 0 and pw == 0:
            return self.core(z)
        top = ph // 2
        left = pw // 2
        bottom = ph - top
        right = pw - left
        if max(top, bottom) < h and max(left, right) < w:
            z = F.pad(z, [left, right, top, bottom], mode="reflect")
        else:
            z = F.pad(z, [left, right, top, bottom], mode="replicate")
        y = self.core(z)
        return y[:, :, top : top + h, left : left + w]


class ImageExport(_ExportBase):
    """Restoration / pretext generators: one output, the image in [0, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((self._model_output(x) + 1.0) * 0.5).clamp(0.0, 1.0)


class BinaryExport(_ExportBase):
    """Binary segmentation: foreground probability and thresholded mask."""

    def __init__(self, core: nn.Module, multiple: int, pad: bool, threshold: float) -> None:
        super().__init__(core, multiple, pad)
        self.threshold = float(threshold)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        prob = torch.sigmoid(self._model_output(x))
        return prob, (prob > self.threshold).to(torch.uint8)


class MulticlassExport(_ExportBase):
    """Multi-class segmentation: class probabilities and the argmax label map."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        prob = torch.softmax(self._model_output(x), dim=1)
        return prob, torch.argmax(prob, dim=1, keepdim=True).to(torch.uint8)


def wrap(core: nn.Module, kind: str, multiple: int, *, pad: bool, threshold: float = 0.5) -> nn.Module:
    """The export module for an output ``kind`` (``image`` / ``binary`` / ``multiclass``)."""
    if kind == "image":
        return ImageExport(core, multiple, pad).eval()
    if kind == "binary":
        return BinaryExport(core, multiple, pad, threshold).eval()
    if kind == "multiclass":
        return MulticlassExport(core, multiple, pad).eval()
    raise ValueError(f"unknown output kind {kind!r}")


#: Name of the input tensor (outputs are named by ``output_names``).
INPUT_NAME = "input"


def output_names(kind: str) -> list[str]:
    return ["image"] if kind == "image" else ["probability", "mask"]
