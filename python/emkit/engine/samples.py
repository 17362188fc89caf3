"""Sample grids: rows = samples, columns = panels (e.g. degraded | generated | clean)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from emkit.engine.atomic import write_atomic


def grid_image(panels: list[torch.Tensor], max_rows: int = 4, pad: int = 2) -> np.ndarray:
    """Tile ``panels`` (each (B, C, H, W) in [0, 1]; first channel shown) into a uint8 array."""
    rows = min(max_rows, panels[0].shape[0])
    h, w = panels[0].shape[-2:]
    out = np.full((rows * (h + pad) + pad, len(panels) * (w + pad) + pad), 255, np.uint8)
    for c, panel in enumerate(panels):
        for r in range(rows):
            img = panel[r, 0].detach().float().clamp(0, 1).cpu().numpy()
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            out[y : y + h, x : x + w] = np.round(img * 255).astype(np.uint8)
    return out


def save_grid(path: str | Path, panels: list[torch.Tensor], max_rows: int = 4) -> None:
    from PIL import Image

    array = grid_image(panels, max_rows)
    write_atomic(path, lambda p: Image.fromarray(array).save(p, format="PNG"))
