"""Pad an image batch up to a multiple of the network's stride and crop the result back.

Generators accept any ``H, W`` (the ``Generator`` contract); their bodies need sides
divisible by ``size_multiple``. Padding is split evenly between both sides so the
image stays centred, and uses reflection (no artificial black border for the network
to react to). Reflection needs the pad to be smaller than the side; for tiny inputs
the replicate mode takes over.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: (top, left, height, width) of the original image inside the padded one.
Box = tuple[int, int, int, int]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, Box]:
    """Pad ``x`` (``N, C, H, W``) so that ``H`` and ``W`` divide by ``multiple``."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (0, 0, h, w)
    top, left = ph // 2, pw // 2
    bottom, right = ph - top, pw - left
    mode = "reflect" if max(top, bottom) < h and max(left, right) < w else "replicate"
    return F.pad(x, (left, right, top, bottom), mode=mode), (top, left, h, w)


def crop(y: torch.Tensor, box: Box) -> torch.Tensor:
    """Undo ``pad_to_multiple``: cut the original ``H × W`` window out of ``y``."""
    top, left, h, w = box
    if y.shape[-2] == h and y.shape[-1] == w:
        return y
    return y[..., top : top + h, left : left + w]
