"""How far tiled prediction is from whole-image inference, measured where it is not exact.

Tiling reproduces whole-image inference when the tiles' zero-weight margins cover the
network's halo (``tile_grid.Overlap.exact``): the U-Nets at the default tile. A network
whose receptive field is larger than the tile allows (HRNet sees about 1 100 px) gets
a quarter-tile overlap instead, and its tiles differ slightly from the whole image.

``TilingProbe`` measures by how much, on the *first tile pair* of an image (its first
two tiles in raster order): while the image is predicted it keeps the finished output
rows of that region; afterwards one forward pass over the region plus the halo on every
side -- clipped to the padded image, so on a small image it is the whole image -- gives
whole-image inference there, and ``TilingDeviation`` holds the largest and mean
absolute difference (probabilities or intensities) and, for segmentations, the share of
mask pixels that differ. The extra forward pass costs the memory of a window of
``(2·tile + 2·halo)²`` pixels at most, once per run. With an unknown receptive field the
whole padded image is the reference window, or nothing is measured when it exceeds
``MAX_REFERENCE_PIXELS``.

``exact_tile`` is the smallest tile for which the automatic overlap is exact: the size a
user would need instead, quoted with its memory cost (memory per tile grows as tile²).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from emkit.data.intensity import Scaling
from emkit.predict.tile_grid import MIN_RAMP, halo, round_down, round_up
from emkit.predict.tiled_predictor import RowReader, RowWriter, TiledPredictor

#: Largest reference window (pixels) used when the receptive field is unknown.
MAX_REFERENCE_PIXELS = 4096 * 4096


def exact_tile(receptive_field: Optional[int], multiple: int) -> Optional[int]:
    """The smallest ``--tile`` whose automatic overlap covers the receptive field (None: unknown)."""
    h = halo(receptive_field, multiple)
    if h is None:
        return None
    return 2 * round_up(2 * h + max(MIN_RAMP, multiple), multiple)


@dataclasses.dataclass(frozen=True)
class TilingDeviation:
    """Tiled minus whole-image output over one region (image coordinates ``y0:y1, x0:x1``)."""

    max_abs: float
    mean_abs: float
    #: Share of mask pixels that differ (segmentation), else None.
    mask_fraction: Optional[float]
    region: tuple[int, int, int, int]
    #: Size (h, w) of the whole-image reference window that was run.
    window: tuple[int, int]

    def summary(self, predictor: TiledPredictor, name: str, where: str) -> str:
        """The one line ``emkit predict`` prints (see the module docstring)."""
        y0, y1, x0, x1 = self.region
        unit = "in probability" if predictor.head.kind != "image" else "in intensity ([0, 1] units)"
        masks = "" if self.mask_fraction is None else f", {100 * self.mask_fraction:.2f} % of mask pixels"
        rf = predictor.receptive_field
        line = (f"tiling: tile {predictor.tile} with overlap {predictor.overlap.overlap} does not cover {name}'s "
                f"receptive field ({rf if rf is not None else 'unknown'} px); on the first tile pair of {where} "
                f"(rows {y0}-{y1}, columns {x0}-{x1}) tiled output differs from whole-image inference by up to "
                f"{self.max_abs:.3g} {unit} (mean {self.mean_abs:.2g}{masks})")
        best = exact_tile(rf, predictor.multiple)
        if best is not None:
            line += (f"; --tile {best} would be exact, at about {(best / predictor.tile) ** 2:.0f}x the memory "
                     "per tile")
        return line


class TilingProbe:
    """Keeps the first tile pair's output rows of one image and compares them afterwards."""

    def __init__(self, predictor: TiledPredictor, read_rows: RowReader, height: int, width: int,
                 scaling: Scaling) -> None:
        self.predictor, self.read_rows, self.scaling = predictor, read_rows, scaling
        self.pad, grid = predictor.plan(height, width)
        first, second = list(grid)[:2]
        top, left = self.pad.top, self.pad.left
        y0, x0 = min(first.y, second.y), min(first.x, second.x)
        y1, x1 = max(first.y, second.y) + grid.tile_h, max(first.x, second.x) + grid.tile_w
        self.padded = (y0, y1, x0, x1)
        self.region = (max(y0 - top, 0), min(y1 - top, height), max(x0 - left, 0), min(x1 - left, width))
        r0, r1, c0, c1 = self.region
        self.tiled = np.zeros((predictor.head.value_channels, r1 - r0, c1 - c0), np.float32)

    @staticmethod
    def applies(predictor: TiledPredictor, height: int, width: int) -> bool:
        """True when tiling this image is not known to be exact (at least two tiles, overlap not exact)."""
        return not predictor.overlap.exact and predictor.count_tiles(height, width) >= 2

    def watch(self, write: RowWriter) -> RowWriter:
        """``write`` that also keeps the region's rows."""
        r0, r1, c0, c1 = self.region
        channels = self.tiled.shape[0]

        def tee(a: int, b: int, values: np.ndarray) -> None:
            lo, hi = max(a, r0), min(b, r1)
            if lo < hi:
                self.tiled[:, lo - r0 : hi - r0] = values[:channels, lo - a : hi - a, c0:c1]
            write(a, b, values)

        return tee

    def reference_window(self) -> Optional[tuple[int, int, int, int]]:
        """Padded-image bounds of the whole-image reference (region + halo, on the multiple)."""
        p = self.predictor
        h = halo(p.receptive_field, p.multiple)
        ph, pw = self.pad.padded_height, self.pad.padded_width
        if h is None:
            return (0, ph, 0, pw) if ph * pw <= MAX_REFERENCE_PIXELS else None
        reach = round_up(h, p.multiple)
        y0, y1, x0, x1 = self.padded
        return (max(round_down(y0 - reach, p.multiple), 0), min(y1 + reach, ph),
                max(round_down(x0 - reach, p.multiple), 0), min(x1 + reach, pw))

    def result(self) -> Optional[TilingDeviation]:
        """Compare the kept rows with whole-image inference (None when no reference can be run)."""
        window = self.reference_window()
        if window is None:
            return None
        wy0, wy1, wx0, wx1 = window
        values = self.predictor.predict_window(self.read_rows, self.pad, wy0, wy1, wx0, wx1, self.scaling)
        r0, r1, c0, c1 = self.region
        oy, ox = r0 + self.pad.top - wy0, c0 + self.pad.left - wx0
        whole = values[: self.tiled.shape[0], oy : oy + r1 - r0, ox : ox + c1 - c0]
        diff = np.abs(self.tiled - whole)
        head = self.predictor.head
        fraction = None
        if head.kind != "image":
            fraction = float(np.mean(head.finalize(self.tiled)["mask"] != head.finalize(whole)["mask"]))
        return TilingDeviation(float(diff.max()), float(diff.mean()), fraction, self.region, (wy1 - wy0, wx1 - wx0))


def measure_array(predictor: TiledPredictor, image: np.ndarray,
                  scaling: Scaling = Scaling()) -> Optional[TilingDeviation]:
    """The deviation on the first tile pair of an in-memory ``(C, H, W)`` / ``(H, W)`` image (None: exact)."""
    img = image[None] if image.ndim == 2 else image
    h, w = img.shape[-2:]
    if not TilingProbe.applies(predictor, h, w):
        return None
    read: Callable[[int, int], np.ndarray] = lambda r0, r1: img[:, r0:r1]  # noqa: E731
    probe = TilingProbe(predictor, read, h, w, scaling)
    predictor.predict(read, h, w, scaling, probe.watch(lambda a, b, v: None))
    return probe.result()
