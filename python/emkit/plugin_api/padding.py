"""Pad an image batch up to a multiple of the network's stride and crop the result back.

Generators accept any ``H, W`` (the ``Generator`` contract); their bodies need sides
divisible by ``size_multiple``. Padding is split evenly between both sides so the
image stays centred, and uses reflection (no artificial black border for the network
to react to). Reflection needs the pad to be smaller than the side; for tiny inputs
the replicate mode takes over.

``pad_amounts`` is the arithmetic alone; ``pad_to_multiple`` applies it to a tensor, and
tiled prediction (``emkit.predict.padding``) applies it through index maps, so a tile sees
the image exactly as the generator sees it whole. ``pad_to_size`` applies the same
centred rule up to a minimum size (exact augmentation's crops of small images).
"""

from __future__ import annotations

import dataclasses
from typing import Tuple

import torch
import torch.nn.functional as F

#: (top, left, height, width) of the original image inside the padded one.
Box = Tuple[int, int, int, int]


@dataclasses.dataclass(frozen=True)
class PadAmounts:
    """Pixels added on each side of an ``H × W`` image, and the mode that fills them."""

    top: int
    bottom: int
    left: int
    right: int
    mode: str  # "reflect" | "replicate"


def pad_sides(height: int, width: int, multiple: int) -> Tuple[int, int, int, int, bool]:
    """``pad_amounts`` as a plain tuple ``(top, bottom, left, right, reflect)``.

    TorchScript-compatible (exported models script it); ``reflect`` is False when the image
    is too small for reflection and the replicate mode fills the pad.
    """
    return centred_pads(height, width, (-height) % multiple, (-width) % multiple)


def centred_pads(height: int, width: int, ph: int, pw: int) -> Tuple[int, int, int, int, bool]:
    """``ph`` rows and ``pw`` columns split evenly around a ``height × width`` image, as
    ``(top, bottom, left, right, reflect)``; ``reflect`` is False when a side's pad is not
    smaller than the image (replicate fills it then). TorchScript-compatible."""
    top, left = ph // 2, pw // 2
    bottom, right = ph - top, pw - left
    return top, bottom, left, right, max(top, bottom) < height and max(left, right) < width


def pad_amounts(height: int, width: int, multiple: int) -> PadAmounts:
    """Centred padding of ``height × width`` up to multiples of ``multiple``.

    Reflection when the image is larger than the pad on every side, else replication.
    """
    top, bottom, left, right, reflect = pad_sides(height, width, multiple)
    return PadAmounts(top, bottom, left, right, "reflect" if reflect else "replicate")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> Tuple[torch.Tensor, Box]:
    """Pad ``x`` (``N, C, H, W``) so that ``H`` and ``W`` divide by ``multiple``."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    top, bottom, left, right, reflect = pad_sides(h, w, multiple)
    if top == 0 and bottom == 0 and left == 0 and right == 0:
        return x, (0, 0, h, w)
    padded = F.pad(x, [left, right, top, bottom], mode="reflect" if reflect else "replicate")
    return padded, (top, left, h, w)


def pad_to_size(x: torch.Tensor, height: int, width: int) -> Tuple[torch.Tensor, Box]:
    """Pad ``x`` (``N, C, H, W``) centrally to at least ``height × width`` (the same
    reflect/replicate rule as ``pad_to_multiple``); larger sides are left as they are."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    top, bottom, left, right, reflect = centred_pads(h, w, max(0, height - h), max(0, width - w))
    if top == 0 and bottom == 0 and left == 0 and right == 0:
        return x, (0, 0, h, w)
    padded = F.pad(x, [left, right, top, bottom], mode="reflect" if reflect else "replicate")
    return padded, (top, left, h, w)


def crop(y: torch.Tensor, box: Box) -> torch.Tensor:
    """Undo ``pad_to_multiple``: cut the original ``H × W`` window out of ``y``."""
    top, left, h, w = box
    if y.shape[-2] == h and y.shape[-1] == w:
        return y
    return y[..., top : top + h, left : left + w]
