"""``emkit predict --preview``: a labelled PNG beside each input's output TIFFs.

``<stem>_preview.png`` shows the first image of an input and what was predicted for it,
side by side under column titles, the file name above the row -- so a user can judge a
prediction without opening float TIFFs in a viewer:

* restoration: input | prediction | input - prediction (what the model removed, red, or
  added, blue; signed colour scale with its limits) [| TTA spread];
* segmentation: input | probability | mask [| TTA disagreement].

The input is shown as the model saw it (normalised to [0, 1]). ``PreviewRows`` gathers
the pictures while the rows are written (every ``step``-th row and column, at most
``max_side`` pixels a side), so nothing is read twice. Grey panels are stretched to
their 0.5-99.5 percentiles (probabilities keep [0, 1], masks are scaled by their
largest label); colour panels carry their scale (``colour_scale``), which is also
stored in the PNG as ``emkit:scales`` (title → [low, high]).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emkit.predict.colour_scale import MIN_WIDTH, sequential_panel, signed_panel

#: Column title of each output.
TITLES = {"input": "input", "pred": "prediction", "prob": "probability", "mask": "mask",
          "residual": "input - prediction", "spread": "TTA spread (std)", "votes": "TTA disagreement"}


class PreviewRows:
    """Strided pictures (first channel) of one ``height × width`` image, filled row block by row block."""

    def __init__(self, height: int, width: int, max_side: int = 512) -> None:
        self.step = max(1, -(-max(height, width) // max_side))
        self.shape = (-(-height // self.step), -(-width // self.step))
        self.panels: dict[str, np.ndarray] = {}

    def add(self, name: str, r0: int, rows: np.ndarray) -> None:
        """Rows ``r0 .. r0 + k`` (``(C, k, W)``) of picture ``name``."""
        first = -(-r0 // self.step) * self.step
        picked = rows[0, first - r0 :: self.step, :: self.step]
        if name not in self.panels:
            self.panels[name] = np.zeros(self.shape, np.float32)
        start = first // self.step
        self.panels[name][start : start + len(picked)] = picked


def to_uint8(values: np.ndarray, kind: str) -> np.ndarray:
    """Display values: percentile-stretched images, [0, 1] probabilities, scaled masks."""
    values = values.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.all():
        values = np.where(finite, values, float(np.median(values[finite])) if finite.any() else 0.0)
    if kind == "prob":
        low, high = 0.0, 1.0
    elif kind == "mask":
        low, high = 0.0, max(float(values.max()), 1.0)
    else:
        low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        high = high if high > low else low + 1.0
    return (np.clip((values - low) / (high - low), 0, 1) * 255 + 0.5).astype(np.uint8)


def preview_cells(panels: dict[str, np.ndarray], kind: str) -> tuple[list[np.ndarray], list[str], dict]:
    """(cells, column titles, colour scales) of the pictures in ``panels`` (see the module docstring)."""
    width = next(iter(panels.values())).shape[1]
    zoom = max(1, -(-MIN_WIDTH // max(width, 1)))
    cells, titles, scales = [], [], {}
    for name in ("input", "pred", "prob", "mask", "residual", "spread"):
        if name not in panels:
            continue
        values = np.repeat(np.repeat(panels[name], zoom, axis=0), zoom, axis=1)
        title = TITLES["votes" if name == "spread" and kind != "image" else name]
        if name == "residual":
            cell, scales[title] = signed_panel(values)
        elif name == "spread":
            cell, scales[title] = sequential_panel(values, None if kind == "image" else 1.0)
        else:
            cell = to_uint8(values, name)
        cells.append(cell)
        titles.append(title)
    return cells, titles, scales


def write_preview(panels: dict[str, np.ndarray], kind: str, out: Path, label: str) -> Path:
    """Write ``out`` (PNG): one row named ``label``, a column per picture in ``panels``."""
    from emkit.data.grids import labelled_grid

    cells, titles, scales = preview_cells(panels, kind)
    grid = labelled_grid([cells], titles, [label])
    if scales:
        grid.notes["scales"] = json.dumps({k: [float(v) for v in lim] for k, lim in scales.items()})
    return grid.save(out)


def preview_path(out_dir: Path, stem: str) -> Path:
    return out_dir / f"{stem}_preview.png"

__all__ = ["PreviewRows", "TITLES", "preview_cells", "preview_path", "to_uint8", "write_preview"]
