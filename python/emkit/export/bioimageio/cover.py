"""The package's cover: the test input beside the model's output, each panel labelled.

A 2:1 PNG (the spec asks for 2:1 or 1:1 and under 500 kB): left the test input as the
network sees it after pre-processing (values in [0, 1]), right the output -- the
restored image, or the foreground probability with the mask's outline for
segmentation (multi-class: the label map). Grey-scale panels share the [0, 1] range and
colour bars, so brightness means the same on both sides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_cover(path: Path, seen: np.ndarray, outputs: dict[str, np.ndarray], kind: str, title: str) -> Path:
    """``seen``: pre-processed input ``(H, W)``; ``outputs``: ``(H, W)``/``(C, H, W)`` arrays by id."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4), dpi=100)
    fig.colorbar(left.imshow(seen, cmap="gray", vmin=0, vmax=1), ax=left, fraction=0.046, pad=0.04)
    left.set_title("input (after pre-processing)", fontsize=10)
    if kind == "image":
        shown = right.imshow(_first(outputs["image"]), cmap="gray", vmin=0, vmax=1)
        right.set_title("output: restored image", fontsize=10)
    elif kind == "binary":
        shown = right.imshow(_first(outputs["probability"]), cmap="magma", vmin=0, vmax=1)
        mask = _first(outputs["mask"])
        if 0 < mask.sum() < mask.size:
            right.contour(mask, levels=[0.5], colors="cyan", linewidths=0.8)
        right.set_title("output: foreground probability, mask outline (cyan)", fontsize=10)
    else:
        labels = _first(outputs["mask"])
        shown = right.imshow(labels, cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
        right.set_title("output: class labels (argmax)", fontsize=10)
    fig.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _first(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 2 else a[0]
