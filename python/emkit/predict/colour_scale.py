"""Colour panels with their scale drawn underneath, for preview pictures.

A grey picture of a signed quantity hides its sign, and a picture without a scale hides
its size. ``signed_panel`` shows values symmetric around zero on a diverging map (blue
below zero, white at zero, red above; limits ±L with L the 99.5th percentile of |values|
unless given); ``sequential_panel`` shows non-negative values from black through
purple and orange to light yellow. Both append a colour bar labelled with its ends
(and zero) in the data's units, and return the limits they used.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

#: Anchor colours (RGB) of the maps, evenly spaced over [0, 1].
DIVERGING = np.array([(59, 76, 192), (141, 176, 254), (242, 242, 242), (244, 154, 123), (180, 4, 38)], np.float64)
SEQUENTIAL = np.array([(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)], np.float64)
#: Panels narrower than this are enlarged (nearest neighbour) so the bar's labels fit.
MIN_WIDTH = 192
BAR_HEIGHT = 10


def apply_map(t: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """``t`` in [0, 1] → RGB uint8 by linear interpolation between ``anchors``."""
    t = np.clip(np.nan_to_num(t, nan=0.5), 0.0, 1.0) * (len(anchors) - 1)
    k = np.minimum(t.astype(int), len(anchors) - 2)
    frac = (t - k)[..., None]
    rgb = anchors[k] * (1 - frac) + anchors[k + 1] * frac
    return (rgb + 0.5).astype(np.uint8)


def _enlarge(values: np.ndarray) -> np.ndarray:
    zoom = max(1, -(-MIN_WIDTH // max(values.shape[1], 1)))
    return np.repeat(np.repeat(values, zoom, axis=0), zoom, axis=1) if zoom > 1 else values


def signed_panel(values: np.ndarray, limit: Optional[float] = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Diverging RGB panel of ``values`` with its labelled bar; returns (panel, (-L, L))."""
    finite = values[np.isfinite(values)]
    if limit is None:
        limit = float(np.percentile(np.abs(finite), 99.5)) if finite.size else 0.0
    limit = limit if limit > 0 else 1e-6
    panel = apply_map((_enlarge(values) / limit + 1.0) / 2.0, DIVERGING)
    bar = apply_map(np.linspace(0.0, 1.0, panel.shape[1])[None, :], DIVERGING)
    return with_bar(panel, bar, [f"-{limit:.3g}", "0", f"+{limit:.3g}"]), (-limit, limit)


def sequential_panel(values: np.ndarray, high: Optional[float] = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Sequential RGB panel of non-negative ``values`` (0 .. high) with its bar; returns (panel, (0, high))."""
    finite = values[np.isfinite(values)]
    if high is None:
        high = float(np.percentile(finite, 99.5)) if finite.size else 0.0
    high = high if high > 0 else 1e-6
    panel = apply_map(_enlarge(values) / high, SEQUENTIAL)
    bar = apply_map(np.linspace(0.0, 1.0, panel.shape[1])[None, :], SEQUENTIAL)
    return with_bar(panel, bar, ["0", "", f"{high:.3g}"]), (0.0, high)


def with_bar(panel: np.ndarray, bar_row: np.ndarray, labels: list[str]) -> np.ndarray:
    """``panel`` (H, W, 3) with a colour bar and its left / middle / right labels underneath."""
    from PIL import Image, ImageDraw, ImageFont

    h, w = panel.shape[:2]
    try:
        font = ImageFont.load_default(size=12)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    line = font.getbbox("0.9-")[3] + 4
    sheet = Image.new("RGB", (w, h + 3 + BAR_HEIGHT + line), (255, 255, 255))
    sheet.paste(Image.fromarray(panel), (0, 0))
    sheet.paste(Image.fromarray(np.repeat(bar_row, BAR_HEIGHT, axis=0)), (0, h + 3))
    draw = ImageDraw.Draw(sheet)
    y = h + 3 + BAR_HEIGHT + 1
    left, middle, right = labels
    draw.text((1, y), left, fill=(20, 20, 20), font=font)
    if middle:
        draw.text(((w - draw.textlength(middle, font=font)) / 2, y), middle, fill=(20, 20, 20), font=font)
    draw.text((w - 1 - draw.textlength(right, font=font), y), right, fill=(20, 20, 20), font=font)
    return np.asarray(sheet)
