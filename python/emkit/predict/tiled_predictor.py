"""The tiled inference engine: any image size, bounded memory, seamless output.

``TiledPredictor.predict`` walks the tile grid (``tile_grid``) in raster order. Each
tile's pixels are gathered from the source rows through the padding index maps
(``padding``), normalised to [0, 1] (the run's intensity rule), batched onto the device,
mapped to model space (``plugin_api.to_model``), run through the generator (with
test-time augmentation if asked), activated into output space (``postprocess``),
weighted by the tile's blending window and added into a *band* of output rows. Rows
above the next unprocessed tile are final -- no later tile touches them -- so they are
handed to ``write`` and dropped. Memory is therefore one band (one tile row of the
padded width, two when a batch spans the end of a row), one strip of source rows and
one batch of tiles -- whatever the image height, and allocated once per image.

With ``TileSettings.spread`` (test-time augmentation only) the blended values carry the
spread of the 8 dihedral predictions as extra planes after the head's
(``OutputHead.spread``); ``OutputHead.finalize`` splits them off. ``predict_window``
runs the network once over any window of the padded image (``tiling_check`` compares
tiles with it).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from emkit.data.intensity import Scaling
from emkit.engine.runtime.devices import channels_last_default
from emkit.plugin_api import to_model
from emkit.predict.padding import PadPlan
from emkit.predict.postprocess import OutputHead
from emkit.predict.tile_grid import Overlap, Tile, TileGrid, plan_overlap, round_up
from emkit.predict.tta import tta_forward, tta_forward_with_spread

#: ``read_rows(r0, r1)`` → raw source pixels ``(C, r1 - r0, W)``.
RowReader = Callable[[int, int], np.ndarray]
#: ``write(r0, r1, values)`` receives final output rows ``(C_out, r1 - r0, W)`` (float32).
RowWriter = Callable[[int, int, np.ndarray], None]


@dataclasses.dataclass(frozen=True)
class TileSettings:
    """``--tile``, ``--overlap`` (None = auto), ``--batch`` and ``--tta``.

    ``channels_last``: run the generator in NHWC memory format (converts its weights in
    place; results are the same up to float rounding). None = as training's auto
    (``emkit.engine.runtime.devices.channels_last_default``): on CPU and CUDA. With torch 2.13 on
    the 2-core CPU, 512² tiles of a 1024² image ran 1.5-2.1x faster in NHWC, narrow
    networks included (benchmarks/throughput/bench_memory_format.py; a width-4 U-Net 1.98x).
    """

    tile: int = 512
    overlap: Optional[int] = None
    batch: int = 4
    tta: bool = False
    channels_last: Optional[bool] = None
    #: Also blend the spread of the 8 test-time predictions (needs ``tta``).
    spread: bool = False

    def __post_init__(self) -> None:
        if self.tile < 1 or self.batch < 1:
            raise ValueError(f"tile and batch must be >= 1, got tile={self.tile} batch={self.batch}")
        if self.spread and not self.tta:
            raise ValueError("the spread is taken over the 8 test-time augmentations: spread needs tta")


class TiledPredictor:
    """Run ``generator`` over images of any size in overlapping, blended tiles."""

    def __init__(
        self,
        generator: nn.Module,
        head: OutputHead,
        settings: TileSettings = TileSettings(),
        device: torch.device | str = "cpu",
        *,
        size_multiple: Optional[int] = None,
        receptive_field: Optional[int] = None,
    ) -> None:
        self.generator = generator
        self.head = head
        self.settings = settings
        self.device = torch.device(device)
        self.multiple = max(int(size_multiple or getattr(generator, "size_multiple", 1) or 1), 1)
        self.receptive_field = receptive_field if receptive_field is not None else getattr(
            generator, "receptive_field", None)
        self.tile = round_up(settings.tile, self.multiple)
        self.overlap: Overlap = plan_overlap(self.tile, self.multiple, self.receptive_field, settings.overlap)
        nhwc = settings.channels_last if settings.channels_last is not None else channels_last_default(self.device)
        self.memory_format = torch.channels_last if nhwc else torch.contiguous_format
        if nhwc:
            generator.to(memory_format=torch.channels_last)
        #: Planes of the blended values: the head's, then the spread's (when asked for).
        self.channels = head.value_channels + (head.spread_channels if settings.spread else 0)

    # -- planning -----------------------------------------------------------------
    def plan(self, height: int, width: int) -> tuple[PadPlan, TileGrid]:
        pad = PadPlan.build(height, width, self.multiple)
        grid = TileGrid.build(pad.padded_height, pad.padded_width, self.tile, self.multiple, self.overlap)
        return pad, grid

    def count_tiles(self, height: int, width: int) -> int:
        return len(self.plan(height, width)[1])

    # -- running ------------------------------------------------------------------
    def predict(
        self,
        read_rows: RowReader,
        height: int,
        width: int,
        scaling: Scaling,
        write: RowWriter,
        on_tiles: Optional[Callable[[int], None]] = None,
    ) -> None:
        """Predict one ``height × width`` image read through ``read_rows``; results go to ``write``."""
        pad, grid = self.plan(height, width)
        rows, cols = pad.rows, pad.cols
        tiles = list(grid)
        batch = self.settings.batch
        # Rows the band must hold at once: from the first tile of a batch (the band starts
        # there after the previous flush) to the bottom of its lowest tile.
        rows_needed = max(tiles[min(i + batch, len(tiles)) - 1].y + grid.tile_h - tiles[i].y
                          for i in range(0, len(tiles), batch))
        band = _Band(self.channels, grid.width, rows_needed)
        # 1-D blending windows on the device; each tile's 2-D window is their outer product.
        wy = [torch.from_numpy(w.astype(np.float32)).to(self.device) for w in grid.wy]
        wx = [torch.from_numpy(w.astype(np.float32)).to(self.device) for w in grid.wx]

        def flush(until: int) -> None:
            start, block = band.pop(until)
            lo, hi = max(start, pad.top), min(until, pad.top + height)
            if lo < hi:
                write(lo - pad.top, hi - pad.top, block[:, lo - start : hi - start, pad.left : pad.left + width])

        channels = read_rows(0, 1).shape[0]
        buffer = np.empty((min(batch, len(tiles)), channels, grid.tile_h, grid.tile_w), np.float32)
        for first in range(0, len(tiles), batch):
            chunk = tiles[first : first + batch]
            inputs = buffer[: len(chunk)]
            for k, t in enumerate(chunk):
                self._tile_input(read_rows, rows, cols, t, grid, scaling, inputs[k])
            weights = torch.stack([torch.outer(wy[t.row], wx[t.col]) for t in chunk])
            outputs = self._run(inputs, weights)
            for t, out in zip(chunk, outputs):
                band.add(t.y, t.x, out)
            if on_tiles is not None:
                on_tiles(len(chunk))
            following = first + batch
            flush(tiles[following].y if following < len(tiles) else grid.height)

    def predict_array(self, image: np.ndarray, scaling: Scaling = Scaling()) -> np.ndarray:
        """In-memory convenience: ``(C, H, W)`` or ``(H, W)`` image → ``(C_out [+ S], H, W)`` values."""
        img = image[None] if image.ndim == 2 else image
        h, w = img.shape[-2:]
        out = np.zeros((self.channels, h, w), np.float32)

        def write(r0: int, r1: int, values: np.ndarray) -> None:
            out[:, r0:r1] = values

        self.predict(lambda r0, r1: img[:, r0:r1], h, w, scaling, write)
        return out

    def predict_window(self, read_rows: RowReader, pad: PadPlan, y0: int, y1: int, x0: int, x1: int,
                       scaling: Scaling) -> np.ndarray:
        """One forward pass (with TTA when set) over rows ``y0:y1``, columns ``x0:x1`` of the
        padded image (bounds on the size multiple) → ``(C_out [+ S], y1 - y0, x1 - x0)`` values."""
        channels = read_rows(0, 1).shape[0]
        inputs = np.empty((1, channels, y1 - y0, x1 - x0), np.float32)
        self._gather(read_rows, pad.rows[y0:y1], pad.cols[x0:x1], scaling, inputs[0])
        return self._run(inputs, torch.ones(1, y1 - y0, x1 - x0, device=self.device))[0]

    # -- internals ----------------------------------------------------------------
    @classmethod
    def _tile_input(cls, read_rows: RowReader, rows: np.ndarray, cols: np.ndarray, t: Tile, grid: TileGrid,
                    scaling: Scaling, out: np.ndarray) -> None:
        """Write the tile's pixels in [0, 1] units into ``out``, gathered through the padding maps."""
        cls._gather(read_rows, rows[t.y : t.y + grid.tile_h], cols[t.x : t.x + grid.tile_w], scaling, out)

    @staticmethod
    def _gather(read_rows: RowReader, ridx: np.ndarray, cidx: np.ndarray, scaling: Scaling, out: np.ndarray) -> None:
        """Source rows ``ridx`` × columns ``cidx`` in [0, 1] units, into ``out``."""
        r0 = int(ridx.min())
        strip = read_rows(r0, int(ridx.max()) + 1)
        out[...] = scaling(strip[:, (ridx - r0)[:, None], cidx[None, :]])  # one gather, no full-width copy

    def _run(self, inputs: np.ndarray, weights: torch.Tensor) -> np.ndarray:
        """Outputs of one batch weighted by ``weights`` (``(B, th, tw)``, on the device), on the CPU."""
        unit = torch.from_numpy(inputs).to(self.device, non_blocking=True)
        x = to_model(unit).contiguous(memory_format=self.memory_format)
        w = weights[:, None]

        def forward(t: torch.Tensor) -> torch.Tensor:
            return self.head.activate(self.generator(t))

        with torch.inference_mode():
            if self.settings.spread:
                y = tta_forward_with_spread(forward, x, self.head.spread)
            else:
                y = tta_forward(forward, x) if self.settings.tta else forward(x)
            return (y * w).cpu().numpy()


class _Band:
    """Output rows still receiving contributions, in one reused buffer.

    ``buf[:, off : off + rows]`` holds padded rows ``start .. start + rows``. Popped rows
    are handed out as views (written before the next ``add``); when the buffer's end is
    reached the remaining rows move to its front, so the band allocates nothing after
    its first use (``capacity``: rows to allocate up front).
    """

    def __init__(self, channels: int, width: int, capacity: int = 0) -> None:
        self.start = 0
        self.off = 0
        self.rows = 0
        self.buf = np.empty((channels, capacity, width), np.float32)

    def add(self, y: int, x: int, values: np.ndarray) -> None:
        need = y + values.shape[-2] - self.start
        if self.off + need > self.buf.shape[1]:
            keep = self.buf[:, self.off : self.off + self.rows]
            if need > self.buf.shape[1]:
                grown = np.empty((self.buf.shape[0], need, self.buf.shape[2]), np.float32)
                grown[:, : self.rows] = keep
                self.buf = grown
            else:
                self._move_to_front()
            self.off = 0
        if need > self.rows:
            self.buf[:, self.off + self.rows : self.off + need] = 0.0
            self.rows = need
        r = self.off + y - self.start
        self.buf[:, r : r + values.shape[-2], x : x + values.shape[-1]] += values

    def _move_to_front(self) -> None:
        """Move the kept rows to the buffer's start in place (no temporary copy).

        Copied per channel in chunks of at most ``off`` rows, so no chunk's source
        overlaps its destination and numpy needs no buffer for it.
        """
        step = max(self.off, 1)
        for channel in self.buf:
            for i in range(0, self.rows, step):
                k = min(step, self.rows - i)
                channel[i : i + k] = channel[self.off + i : self.off + i + k]

    def pop(self, until: int) -> tuple[int, np.ndarray]:
        """Remove and return the rows before ``until`` as ``(first row, block)``."""
        k = max(0, min(until - self.start, self.rows))
        start, block = self.start, self.buf[:, self.off : self.off + k]
        self.off += k
        self.rows -= k
        self.start += k
        return start, block
