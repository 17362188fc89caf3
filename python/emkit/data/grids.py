"""Labelled picture grids: column titles on top, an identifier above every row.

Every grid emkit writes goes through :func:`labelled_grid` -- training samples
(``samples/epoch_XXX.png``: rows = validation items, columns = the objective's panels
such as degraded | restored | clean | |error|), ``emkit data show`` and the
``emkit predict --preview`` pictures -- so none of them depends on a documented column
order. The titles and row identifiers are also stored as PNG text chunks
(``emkit:columns``, ``emkit:rows``, JSON lists) for tools and tests, with any ``notes``
(``emkit:<key>``, e.g. the colour scales of a prediction preview).

Objectives return their panels as ``{title: (B, C, H, W) tensor in [0, 1]}``; a plain
list still works and gets ``panel 1``, ``panel 2``, ... as titles.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

#: Cells narrower than this are enlarged (nearest neighbour) so that titles fit above them.
MIN_CELL = 96
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


@dataclass
class Grid:
    """A rendered grid and what it shows."""

    image: Any  # PIL.Image.Image (RGB)
    columns: list[str]
    rows: list[str]
    #: Extra text chunks ``emkit:<key>`` (JSON strings).
    notes: dict[str, str] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        """Write the grid as PNG (atomically) with the titles as text chunks."""
        from PIL.PngImagePlugin import PngInfo

        from emkit.storage.atomic import write_atomic

        info = PngInfo()
        info.add_text("emkit:columns", json.dumps(self.columns))
        info.add_text("emkit:rows", json.dumps(self.rows))
        for key, text in self.notes.items():
            info.add_text(f"emkit:{key}", text)
        write_atomic(path, lambda p: self.image.save(p, format="PNG", pnginfo=info))
        return Path(path)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed bitmap font
        return ImageFont.load_default()


def _fit_text(draw: Any, text: str, width: int, font: Any) -> str:
    """``text`` shortened with ``…`` until it is at most ``width`` pixels wide."""
    if draw.textlength(text, font=font) <= width:
        return text
    while len(text) > 1 and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _to_rgb(cell: np.ndarray) -> np.ndarray:
    if cell.ndim == 2:
        cell = cell[..., None]
    if cell.shape[-1] == 1:
        cell = np.repeat(cell, 3, axis=-1)
    return np.ascontiguousarray(cell.astype(np.uint8))


def labelled_grid(cells: Sequence[Sequence[np.ndarray]], columns: Sequence[str], rows: Sequence[str], *,
                  blocks: int = 1, pad: int = 4) -> Grid:
    """Draw ``cells[r][c]`` (uint8 ``(H, W)`` or ``(H, W, 3)``) under titles and row captions.

    ``columns`` titles every column, ``rows`` names every row (item keys, file names).
    With ``blocks > 1`` the rows are split into that many side-by-side blocks, each with
    its own title line (for grids with many short rows).
    """
    from PIL import Image, ImageDraw

    if not cells:
        raise ValueError("labelled_grid needs at least one row")
    if len(rows) != len(cells) or any(len(r) != len(columns) for r in cells):
        raise ValueError(f"{len(cells)} rows x {len(columns)} columns do not match the labels given")
    h = max(c.shape[0] for r in cells for c in r)
    w = max(c.shape[1] for r in cells for c in r)
    zoom = max(1, math.ceil(MIN_CELL / max(min(h, w), 1)))
    h, w = h * zoom, w * zoom
    font = _font(max(11, min(18, w // 9)))
    line = font.getbbox("Ag|")[3] + 4
    per_block = math.ceil(len(cells) / blocks)
    block_w = len(columns) * (w + pad) + pad
    block_h = line + per_block * (line + h + pad) + pad
    sheet = Image.new("RGB", (blocks * block_w, block_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for b in range(blocks):
        x0 = b * block_w
        for c, title in enumerate(columns):
            text = _fit_text(draw, str(title), w, font)
            tx = x0 + pad + c * (w + pad) + (w - draw.textlength(text, font=font)) / 2
            draw.text((tx, 2), text, fill=INK, font=font)
        for i, r in enumerate(range(b * per_block, min((b + 1) * per_block, len(cells)))):
            y = line + i * (line + h + pad)
            draw.text((x0 + pad, y + 2), _fit_text(draw, str(rows[r]), block_w - 2 * pad, font), fill=INK, font=font)
            for c, cell in enumerate(cells[r]):
                img = Image.fromarray(_to_rgb(cell))
                if zoom > 1:
                    img = img.resize((img.width * zoom, img.height * zoom), Image.NEAREST)
                sheet.paste(img, (x0 + pad + c * (w + pad), y + line))
    return Grid(sheet, [str(c) for c in columns], [str(r) for r in rows])


def titled_panels(panels: Any) -> tuple[list[str], list[Any]]:
    """``(titles, tensors)`` from an objective's ``{title: tensor}`` (or a plain list)."""
    if isinstance(panels, Mapping):
        return [str(k) for k in panels], list(panels.values())
    return [f"panel {i + 1}" for i in range(len(panels))], list(panels)


def row_names(sources: Any, count: int) -> list[str]:
    """Row identifiers: the batch's ``source`` keys when present, else ``#0``, ``#1``, ..."""
    if isinstance(sources, (list, tuple)) and len(sources) >= count:
        return [str(s) for s in sources[:count]]
    return [f"#{i}" for i in range(count)]


def panel_grid(panels: Any, sources: Any = None, max_rows: int = 4) -> Grid:
    """The grid of an objective's sample panels: rows = batch items, columns = panels."""
    titles, tensors = titled_panels(panels)
    count = min(max_rows, tensors[0].shape[0])
    cells = [[(t[r, 0].detach().float().clamp(0, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8) for t in tensors]
             for r in range(count)]
    return labelled_grid(cells, titles, row_names(sources, count))


def save_grid(path: str | Path, panels: Any, sources: Any = None, max_rows: int = 4) -> Path:
    """Write the labelled sample grid of ``panels`` (rows named by ``sources``) to ``path``."""
    return panel_grid(panels, sources, max_rows).save(path)


def dataset_grid(samples: Sequence[Mapping[str, Any]], indices: Sequence[int], *, cell: int = 256) -> Grid:
    """``emkit data show``: one row per sample (its ``source`` key, else ``#index``), columns image | target | mask.

    Images are shown as the network sees them (integers over their dtype's maximum,
    floats clipped to [0, 1]); masks in colour; every cell scaled to ``cell`` pixels.
    """
    from PIL import Image

    from emkit.data.preview import to_display

    if not samples:
        from emkit.errors import DataError

        raise DataError("no samples to show (the split is empty)")
    keys = [k for k in ("image", "target", "mask") if k in samples[0]]
    cells = []
    for sample in samples:
        row = []
        for key in keys:
            arr = to_display(sample[key], mask=(key == "mask"))
            scale = cell / max(arr.shape[:2])
            size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
            resample = Image.NEAREST if key == "mask" or scale >= 1 else Image.BILINEAR
            row.append(np.asarray(Image.fromarray(arr).resize(size, resample)))
        cells.append(row)
    names = [s["source"] if isinstance(s.get("source"), str) else f"#{i}" for i, s in zip(indices, samples)]
    return labelled_grid(cells, keys, names, blocks=max(1, round(math.sqrt(len(samples) / len(keys)))))
