"""The one place that maps image intensities to the generator's input/output space.

Public plugin API (``emkit.plugin_api``): plugins, the engine, prediction and export all
convert through these three functions.

Images are handled in [0, 1] (integers scaled by their range); generators see and
produce ``2x - 1`` (pix2pix's [-1, 1] convention). Pretexts and tasks share this mapping so
a pretrained generator is fine-tuned in the space it was pretrained in.
"""

from __future__ import annotations

import torch


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8/uint16 → float in [0, 1]; floats are returned as float32 unchanged."""
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if x.dtype == torch.uint16:
        return x.float() / 65535.0
    if x.dtype in (torch.int16, torch.int32):
        return x.float() / 65535.0
    return x.float()


def to_model(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] image → generator space."""
    return x * 2.0 - 1.0


def from_model(y: torch.Tensor) -> torch.Tensor:
    """Generator output → [0, 1] image space (not clamped)."""
    return (y + 1.0) * 0.5
