"""The whole image's padding to ``size_multiple``, as index maps instead of a padded copy.

Tiled inference must see the image exactly as the generator would see it whole: padded
to a multiple of ``size_multiple``, split evenly between both sides, by reflection
(replication when the image is too small to reflect). The amounts come from
``emkit.plugin_api.pad_amounts``, the arithmetic ``pad_to_multiple`` (and so every
generator that pads with it) uses; a plugin that pads differently still gets correct
tiles everywhere except in its padded border.

A padded image of a huge file is never built: ``PadPlan.rows`` / ``cols`` say which
source row/column each padded one is, and tiles gather their pixels through them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from emkit.plugin_api.padding import pad_amounts


@dataclasses.dataclass(frozen=True)
class PadPlan:
    """Padding of an ``height × width`` image to multiples of ``multiple``."""

    height: int
    width: int
    multiple: int
    top: int
    left: int
    padded_height: int
    padded_width: int
    mode: str  # "reflect" | "replicate"

    @classmethod
    def build(cls, height: int, width: int, multiple: int) -> "PadPlan":
        p = pad_amounts(height, width, multiple)
        return cls(height, width, multiple, p.top, p.left, height + p.top + p.bottom, width + p.left + p.right,
                   p.mode)

    @property
    def rows(self) -> np.ndarray:
        """Source row of every padded row."""
        return _source_index(self.padded_height, self.top, self.height, self.mode)

    @property
    def cols(self) -> np.ndarray:
        """Source column of every padded column."""
        return _source_index(self.padded_width, self.left, self.width, self.mode)


def _source_index(padded: int, before: int, size: int, mode: str) -> np.ndarray:
    j = np.arange(padded, dtype=np.int64) - before
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    # torch's "reflect": the edge pixel is not repeated (-1 -> 1, size -> size - 2).
    j = np.abs(j)
    return np.where(j >= size, 2 * (size - 1) - j, j)
