"""Look at a dataset before training: build it from ``key=value`` options, grid, statistics.

``dataset_from_options`` constructs a dataset plugin from ``key=value`` items exactly as a run would (validated Config,
split, optional ``select_target``). ``to_display`` shows a sample as the network sees
it -- integers divided by their dtype's maximum, floats clipped to [0, 1], masks in
colour (``emkit.data.grids.dataset_grid`` lays them out with labels) -- and ``describe`` reports shape,
dtype and mean/std/min/max per key so wrong scaling or empty masks show up at once.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch


#: Colours of mask classes 1, 2, ... (class 0 stays black).
MASK_COLOURS = np.array(
    [[0, 0, 0], [255, 80, 40], [60, 200, 90], [60, 120, 255], [250, 210, 40], [200, 70, 220], [40, 210, 220]],
    dtype=np.uint8,
)


def dataset_from_options(name: str, overrides: Sequence[str] = (), split: str = "train", target: Optional[str] = None):
    """The dataset plugin ``name`` configured by ``key=value`` items (``data.`` prefix optional).

    The items are parsed by the config layer's ``parse_overrides`` (as ``data.<key>=...``)
    and the dataset is built by ``emkit.data.build.build_dataset``, exactly as a run builds it.
    """
    from emkit.config.overrides import parse_overrides
    from emkit.data.build import build_dataset

    items = [item if item.strip().startswith("data.") else f"data.{item.strip()}" for item in overrides]
    values = parse_overrides(items).get("data", {})
    return build_dataset(name, values, split, target or None)


def pick(n_total: int, n: int) -> list[int]:
    """``n`` indices spread evenly over a dataset of ``n_total`` samples."""
    if n_total <= 0:
        return []
    if n >= n_total:
        return list(range(n_total))
    return sorted({int(round(x)) for x in np.linspace(0, n_total - 1, n)})


def to_display(t: torch.Tensor, *, mask: bool = False) -> np.ndarray:
    """(C, H, W) sample tensor -> (H, W, 3) uint8 as the model sees it (masks coloured)."""
    a = t.detach().cpu().numpy()
    a = a[0] if a.ndim == 3 else a
    if mask:
        return MASK_COLOURS[np.clip(a.astype(np.int64), 0, len(MASK_COLOURS) - 1)]
    if a.dtype == np.uint8:
        g = a
    elif a.dtype.kind in "ui":
        g = (a.astype(np.float32) / np.iinfo(a.dtype).max * 255 + 0.5).astype(np.uint8)
    else:
        g = (np.clip(np.nan_to_num(a.astype(np.float32)), 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def describe(samples: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """Per key: shape, dtype, and mean/std/min/max raw and in [0, 1] units (ints / dtype max)."""
    out: dict[str, dict[str, Any]] = {}
    for key in ("image", "target", "mask"):
        tensors = [s[key] for s in samples if key in s]
        if not tensors:
            continue
        shapes = sorted({tuple(t.shape) for t in tensors})
        dtypes = sorted({str(t.dtype).replace("torch.", "") for t in tensors})
        a = torch.stack([t.float() for t in tensors]) if len(shapes) == 1 else torch.cat([t.float().flatten() for t in tensors])
        info: dict[str, Any] = {
            "shape": shapes[0] if len(shapes) == 1 else shapes,
            "dtype": dtypes[0] if len(dtypes) == 1 else dtypes,
            "mean": float(a.mean()), "std": float(a.std()), "min": float(a.min()), "max": float(a.max()),
        }
        t0 = tensors[0]
        if key != "mask" and not t0.is_floating_point():
            scale = float(torch.iinfo(t0.dtype).max)
            info["scaled"] = {k: info[k] / scale for k in ("mean", "std", "min", "max")}
        if key == "mask":
            counts = torch.bincount(torch.cat([t.flatten().long() for t in tensors]))
            info["class_fractions"] = {int(i): round(float(c) / float(counts.sum()), 4) for i, c in enumerate(counts) if c}
        out[key] = info
    return out
