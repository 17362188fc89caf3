"""Bring every sample of a dataset to one size, so PyTorch's default collate can stack them.

``fit`` centre-crops larger images and reflect-pads smaller ones (reflection keeps the
texture statistics near the border, unlike zero padding, which a GAN would learn as an
artificial edge). The same function handles a target or a mask so pairs stay aligned.
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def fit(arr: np.ndarray, size: Optional[int | tuple[int, int]]) -> np.ndarray:
    """Centre-crop / reflect-pad the last two axes of ``arr`` to ``size`` (None: unchanged)."""
    if size is None:
        return arr
    th, tw = (size, size) if isinstance(size, int) else size
    h, w = arr.shape[-2:]
    if h > th:
        top = (h - th) // 2
        arr = arr[..., top : top + th, :]
    if w > tw:
        left = (w - tw) // 2
        arr = arr[..., :, left : left + tw]
    h, w = arr.shape[-2:]
    if h < th or w < tw:
        ph, pw = th - h, tw - w
        pad = [(0, 0)] * (arr.ndim - 2) + [(ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)]
        # reflect needs the pad to be smaller than the axis; wrap around for tiny inputs
        mode = "reflect" if ph < h and pw < w else "symmetric" if ph <= h and pw <= w else "wrap"
        arr = np.pad(arr, pad, mode=mode)
    return arr
