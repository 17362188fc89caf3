"""Where tiles go and how much each one counts: the tile grid and its blending windows.

Pure numpy (no torch), so the arithmetic is testable on its own.

Coordinates are those of the *padded* image: the image padded to a multiple of the
network's ``size_multiple`` exactly as the generator pads it (see ``padding.py``).
Every tile starts on a multiple of ``size_multiple`` and has a side that divides by it,
so a tile sees the same pooling grid as the whole image and the network needs no
internal padding for it.

Blending (per axis; the 2-D window is the outer product). A tile's weight at a pixel
depends on the pixel's distance ``d`` to the nearest *interior* tile edge (an edge that
is not the image border):

* ``d < margin``: exactly 0 -- these outputs see the tile's zero padding;
* ``margin <= d < margin + ramp``: linear ramp ``(d - margin + 1) / (ramp + 1)``;
* further in, and at the image border: 1.

The weights of all tiles are divided by their sum at each pixel, so they add up to 1.
When ``margin`` is at least the network's halo (half its receptive field, see
``halo``), every tile with a non-zero weight at a pixel saw that pixel's whole
receptive field, so all contributing tiles agree with the whole-image result and the
blend reproduces it (up to float rounding). The ramp only matters where tiles disagree
(an overlap too small for the receptive field): it hides the seams.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterator, Optional

import numpy as np

from emkit.errors import EmkitError

#: Narrowest linear ramp added to an exact overlap (px) -- smooth seams for free.
MIN_RAMP = 16


def round_up(value: int, multiple: int) -> int:
    return -(-int(value) // multiple) * multiple


def round_down(value: int, multiple: int) -> int:
    return int(value) // multiple * multiple


def halo(receptive_field: Optional[int], multiple: int) -> Optional[int]:
    """Pixels an output needs on each side: ``ceil(RF/2) + multiple//2`` (None if RF unknown).

    ``receptive_field`` is a *mean* extent for networks with grid-aligned pooling and
    upsampling (the U-Net's formula): pixels whose position in the pooling grid is
    unlucky see up to about ``multiple/2`` further on one side (U-Net_4_200: 107 px
    where ``ceil(200/2)`` says 100). The extra ``multiple//2`` covers that.
    """
    if receptive_field is None:
        return None
    return math.ceil(int(receptive_field) / 2) + int(multiple) // 2


@dataclasses.dataclass(frozen=True)
class Overlap:
    """Overlap between neighbouring tiles and the zero-weight margin at interior edges."""

    overlap: int
    margin: int
    #: True when ``margin`` covers the network's halo: tiled == whole-image inference.
    exact: bool

    @property
    def ramp(self) -> int:
        return max(self.overlap - 2 * self.margin, 0)


def plan_overlap(tile: int, multiple: int, receptive_field: Optional[int], requested: Optional[int]) -> Overlap:
    """Choose overlap and margin for ``tile``-sized tiles (``requested`` None = auto).

    Auto: ``2·halo + ramp`` rounded up to ``multiple`` when that fits in half a tile
    (exact); otherwise the receptive field is too large for this tile and a quarter
    tile is used (approximate; ``margin`` = a quarter of the overlap). An explicit
    overlap is rounded up to ``multiple``; it is exact when it reaches ``2·halo``.
    """
    h = halo(receptive_field, multiple)
    if requested is None:
        if h is not None:
            ov = round_up(2 * h + max(MIN_RAMP, multiple), multiple)
            if ov <= tile // 2:
                return Overlap(ov, h, True)
        ov = round_down(tile // 4, multiple)
        return Overlap(ov, ov // 4, h is not None and ov // 4 >= h)
    if requested < 0:
        raise EmkitError(f"--overlap must be >= 0 or 'auto', got {requested}")
    ov = round_up(requested, multiple)
    if ov >= tile:
        raise EmkitError(f"--overlap {requested} (rounded to {ov}) must be smaller than the tile ({tile})")
    if h is not None and ov >= 2 * h:
        return Overlap(ov, h, True)
    return Overlap(ov, ov // 4, False)


def axis_starts(length: int, tile: int, overlap: int, multiple: int) -> list[int]:
    """Tile starts along one axis of ``length`` (all multiples of ``multiple``).

    The first tile starts at 0 and the last ends at ``length``; the ones between are
    spread evenly, so every neighbouring pair overlaps by at least ``overlap``.
    ``length`` and ``tile`` must divide by ``multiple``; a ``tile >= length`` gives one tile.
    """
    if length % multiple or tile % multiple or overlap % multiple:
        raise ValueError(f"length {length}, tile {tile}, overlap {overlap} must divide by {multiple}")
    if tile >= length:
        return [0]
    stride = tile - overlap
    if stride <= 0:
        raise ValueError(f"overlap {overlap} must be smaller than the tile {tile}")
    gaps = -(-(length - tile) // stride)
    span = length - tile
    return [round_down(i * span // gaps, multiple) if i < gaps else span for i in range(gaps + 1)]


def axis_weights(starts: list[int], tile: int, length: int, margin: int, ramp: int) -> list[np.ndarray]:
    """Normalised 1-D blending weights (float64, one array of ``tile`` per start)."""
    size = min(tile, length)
    pos = np.arange(size, dtype=np.float64)
    raw = []
    for s in starts:
        d = np.full(size, np.inf)
        if s > 0:
            d = np.minimum(d, pos)
        if s + size < length:
            d = np.minimum(d, size - 1 - pos)
        raw.append(np.clip((d - margin + 1) / (ramp + 1), 0.0, 1.0))
    total = np.zeros(length)
    for s, w in zip(starts, raw):
        total[s : s + size] += w
    if np.any(total <= 0):
        raise ValueError(f"tiles leave pixels without weight (margin {margin} too large for the overlap)")
    return [w / total[s : s + size] for s, w in zip(starts, raw)]


@dataclasses.dataclass(frozen=True)
class Tile:
    """One tile: its top-left corner in padded coordinates and its place in the grid."""

    y: int
    x: int
    row: int
    col: int


@dataclasses.dataclass(frozen=True)
class TileGrid:
    """All tiles of a padded ``height × width`` image, in raster order."""

    height: int
    width: int
    tile_h: int
    tile_w: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]
    wy: tuple[np.ndarray, ...]
    wx: tuple[np.ndarray, ...]
    overlap: Overlap

    @classmethod
    def build(cls, height: int, width: int, tile: int, multiple: int, overlap: Overlap) -> "TileGrid":
        ys = axis_starts(height, tile, overlap.overlap, multiple)
        xs = axis_starts(width, tile, overlap.overlap, multiple)
        wy = axis_weights(ys, tile, height, overlap.margin, overlap.ramp)
        wx = axis_weights(xs, tile, width, overlap.margin, overlap.ramp)
        return cls(height, width, min(tile, height), min(tile, width), tuple(ys), tuple(xs),
                   tuple(wy), tuple(wx), overlap)

    def __len__(self) -> int:
        return len(self.ys) * len(self.xs)

    def __iter__(self) -> Iterator[Tile]:
        for i, y in enumerate(self.ys):
            for j, x in enumerate(self.xs):
                yield Tile(y, x, i, j)

    def weight(self, tile: Tile) -> np.ndarray:
        """The tile's blending window ``(tile_h, tile_w)``, float32 (built on demand)."""
        return np.outer(self.wy[tile.row], self.wx[tile.col]).astype(np.float32)
