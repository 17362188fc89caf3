"""The worst/best overlay grid of ``emkit eval --save-predictions``.

Images are ranked by the primary metric (Dice for masks, else L1, PSNR, loss; direction
from ``keep_best.higher_is_better``); each row shows image | prediction | truth | overlay
(masks: green = truth only, red = prediction only, yellow = both; restoration:
|prediction - truth| x 4), labelled with the item key and its score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emkit.engine.runs.keep_best import higher_is_better

#: Metrics used to rank images, in order of preference.
PRIMARY = ("dice", "l1", "psnr", "loss")


def primary_metric(rows: list[dict[str, Any]]) -> str | None:
    names = [k for k in (rows[0] if rows else {}) if k not in ("index", "key")]
    for name in PRIMARY:
        if name in names:
            return name
    return names[0] if names else None


def worst_and_best(rows: list[dict[str, Any]], k: int = 4) -> tuple[str | None, list[int], list[int]]:
    """(metric, indices of the ``k`` worst, of the ``k`` best) by the primary metric."""
    metric = primary_metric(rows)
    if metric is None:
        return None, [], []
    order = sorted(range(len(rows)), key=lambda i: rows[i][metric], reverse=higher_is_better(metric))
    k = min(k, (len(rows) + 1) // 2)
    return metric, order[::-1][:k], order[:k]


def _overlay(image: np.ndarray, pred: np.ndarray, truth: np.ndarray, is_mask: bool) -> np.ndarray:
    if not is_mask:
        err = np.clip(np.abs(pred - truth) * 4, 0, 1)
        return np.stack([err, err, err], -1)
    base = np.stack([image] * 3, -1) * 0.5
    p, t = pred > 0, truth > 0
    base[p & ~t] = [1.0, 0.2, 0.2]
    base[t & ~p] = [0.2, 1.0, 0.2]
    base[p & t] = [1.0, 1.0, 0.2]
    return base


def save_worst_best(path: Path, rows: list[dict[str, Any]], thumbs: dict, is_mask: bool, k: int = 4) -> Path | None:
    """A PNG: one row per image (worst first, then best): image | prediction | truth | overlay."""
    from PIL import Image, ImageDraw

    metric, worst, best = worst_and_best(rows, k)
    chosen = [(i, "worst") for i in worst] + [(i, "best") for i in best]
    if not chosen or not thumbs:
        return None
    cells = []
    for i, tag in chosen:
        image, pred, truth = thumbs[i]
        scale = float(max(pred.max(), truth.max(), 1)) if is_mask else 1.0
        panels = [np.stack([image] * 3, -1), np.stack([pred / scale] * 3, -1), np.stack([truth / scale] * 3, -1),
                  _overlay(image, pred, truth, is_mask)]
        cells.append((np.concatenate(panels, 1), f"{tag}: {rows[i]['key']}  {metric} {rows[i][metric]:.4f}"))
    width = max(c.shape[1] for c, _ in cells)
    label_h = 14
    canvas = Image.new("RGB", (width, sum(c.shape[0] + label_h for c, _ in cells)), "black")
    draw = ImageDraw.Draw(canvas)
    y = 0
    for cell, label in cells:
        draw.text((2, y + 1), label, fill="white")
        canvas.paste(Image.fromarray((np.clip(cell, 0, 1) * 255).astype(np.uint8)), (0, y + label_h))
        y += cell.shape[0] + label_h
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
