"""The one place that maps image intensities to the generator's input/output space.

Public plugin API (``emkit.plugin_api``): plugins, the engine, prediction and export all
convert through these functions (export scripts them into its TorchScript/ONNX wrappers,
so they stay TorchScript-compatible).

Images are handled in [0, 1]; generators see and produce ``2x - 1`` (pix2pix's [-1, 1]
convention). Pretexts and tasks share this mapping so a pretrained generator is
fine-tuned in the space it was pretrained in.

Stored intensities reach [0, 1] by their type alone (``to_unit``): floats are taken as
they are (already in [0, 1]); an integer type's whole range maps onto [0, 1], its minimum
to 0 and its maximum to 1: ``(v - min) / (max - min)``. Unsigned types therefore divide by
their maximum (uint8 ``/255``, uint16 ``/65535``); signed types are shifted first (int16
-32768 → 0, 0 → 0.500008, 32767 → 1), so signed data keeps its sign's order instead of
folding negative values below 0. The data layer's ``none`` and ``fixed`` (without
``data.scale``) normalisations use the same map for files (``emkit.data.intensity``), so
training, ``emkit predict`` and exported models agree.
"""

from __future__ import annotations

from typing import Tuple

import torch


def integer_range(x: torch.Tensor) -> Tuple[float, float]:
    """``(min, max)`` of ``x``'s integer type: the values that map to 0 and to 1."""
    bits = 8.0 * x.element_size()
    if x.is_signed():
        return -(2.0 ** (bits - 1.0)), 2.0 ** (bits - 1.0) - 1.0
    return 0.0, 2.0**bits - 1.0


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Stored intensities → float32 in [0, 1] (see the module docstring).

    Floats (and bool) become float32 unchanged; integers map their type's range onto
    [0, 1] (``integer_to_unit`` with ``integer_range(x)``).
    """
    if x.is_floating_point() or x.dtype == torch.bool:
        return x.float()
    if x.is_complex():
        raise ValueError("to_unit: expected an integer, bool or floating-point tensor, got a complex one")
    lo, hi = integer_range(x)
    return integer_to_unit(x, lo, hi)


def integer_to_unit(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Integers ``lo .. hi`` → float32 ``0 .. 1``: ``(x - lo) / (hi - lo)``.

    Ranges wider than 16 bits are mapped in float64 before rounding to float32.
    """
    if hi - lo <= 65535.0:  # exact in float32
        unit = x.float()
        return unit / hi if lo == 0.0 else (unit - lo) / (hi - lo)
    return ((x.double() - lo) / (hi - lo)).float()


def to_model(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] image → generator space."""
    return x * 2.0 - 1.0


def from_model(y: torch.Tensor) -> torch.Tensor:
    """Generator output → [0, 1] image space (not clamped)."""
    return (y + 1.0) * 0.5
