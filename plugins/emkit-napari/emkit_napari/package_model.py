"""A bioimage.io model package behind the predict widget's ``Model`` interface.

The package is opened with ``emkit.load`` (``rdf.yaml`` read safely, TorchScript weights,
the package's own pre-processing; no bioimageio library needed). It predicts each plane whole: the package's pre-processing
is per image (percentiles), so cutting the plane into tiles would change the numbers;
its TorchScript pads any size to the network's multiple itself. Progress therefore
counts planes, one "tile" each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


class PackageModel:
    """``name``, ``kind``, ``threshold``, ``channels`` and ``predict_plane`` of a package."""

    def __init__(self, path: str | Path) -> None:
        import emkit

        self.model = emkit.load(path)
        self.name = self.model.name
        self.kind = self.model.kind
        self.threshold = self.model.threshold
        self.channels = 0  # known after the first plane

    def count_tiles(self, height: int, width: int) -> int:
        return 1

    def predict_plane(self, plane: np.ndarray, where: str, on_tiles: Callable[[int], None]) -> np.ndarray:
        outs = self.model.predict_all(plane)
        values = np.asarray(outs["pred"] if "pred" in outs else outs["prob"], np.float32)
        values = values[None] if values.ndim == 2 else values
        self.channels = values.shape[0]
        on_tiles(1)
        return values
