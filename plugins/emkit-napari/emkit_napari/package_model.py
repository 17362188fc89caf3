"""A bioimage.io model package behind the predict widget's ``Model`` interface.

The package is opened with ``emkit.load`` (``rdf.yaml`` read safely, TorchScript weights,
the package's own pre-processing; no bioimageio library needed). It predicts each plane whole: the package's pre-processing
is per image (percentiles), so cutting the plane into tiles would change the numbers;
its TorchScript pads any size to the network's multiple itself. Progress therefore
counts planes, one "tile" each. The residual (``residual=True``, restorations) is the
plane after the package's pre-processing minus the output; planes unlike the attached
training-input statistics are noted as for a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


class PackageModel:
    """``name``, ``kind``, ``threshold``, ``channels`` and ``predict_plane`` of a package."""

    def __init__(self, path: str | Path, residual: bool = False) -> None:
        import emkit

        self.model = emkit.load(path)
        self.name = self.model.name
        self.kind = self.model.kind
        self.threshold = self.model.threshold
        self.channels = 0  # known after the first plane
        self.residual = residual
        self.notes: list[str] = [self.model.input_stats_note] if self.model.input_stats_note else []

    def count_tiles(self, height: int, width: int) -> int:
        return 1

    def predict_plane(self, plane: np.ndarray, where: str, on_tiles: Callable[[int], None]) -> np.ndarray:
        from emkit_napari.predict_core import plane_values

        outs = self.model.predict_all(plane, residual=self.residual)
        values = plane_values(self.model, plane, outs, where, self.notes)
        self.channels = values.shape[0] // (2 if "residual" in outs else 1)
        on_tiles(1)
        return values
