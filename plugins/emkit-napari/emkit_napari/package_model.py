"""A bioimage.io model package behind the predict widget's ``Model`` interface.

The package is opened with emkit's loader (``emkit.export.bioimageio.load_package``:
``rdf.yaml`` read safely, TorchScript weights, the package's own pre-processing; no
bioimageio library needed). It predicts each plane whole: the package's pre-processing
is per image (percentiles), so cutting the plane into tiles would change the numbers;
its TorchScript pads any size to the network's multiple itself. Progress therefore
counts planes, one "tile" each. The residual (``residual=True``, restorations) is the
plane after the package's pre-processing minus the output; planes unlike the attached
training-input statistics are noted as ``emkit predict`` notes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np


class PackageModel:
    """``name``, ``kind``, ``threshold``, ``channels`` and ``predict_plane`` of a package."""

    def __init__(self, path: str | Path, residual: bool = False) -> None:
        from emkit.export.bioimageio import load_package

        self.package = load_package(path)
        self.name = self.package.name
        self.kind = self.package.output_kind
        self.threshold = 0.5 if self.package.threshold is None else float(self.package.threshold)
        self.channels = 0  # known after the first plane
        self.residual = residual and self.kind == "image"
        self.notes: list[str] = [] if self.package.input_stats is not None else [
            f"{self.name}: the package carries no training-input statistics; inputs are not compared with them"]

    def count_tiles(self, height: int, width: int) -> int:
        return 1

    def predict_plane(self, plane: np.ndarray, where: str, on_tiles: Callable[[int], None]) -> np.ndarray:
        from emkit.data.input_stats import array_features, compare
        from emkit.data.input_stats.features import MIN_SIDE
        from emkit.export.bioimageio.preprocessing import AXES, apply_steps

        values = np.asarray(self.package.predict(plane), np.float32)
        values = values[None] if values.ndim == 2 else values
        self.channels = values.shape[0]
        on_tiles(1)
        seen = None
        if self.residual or self.package.input_stats is not None:
            seen = apply_steps(self.package.preprocessing, np.asarray(plane, np.float32)[None, None], AXES)[0]
        if self.package.input_stats is not None and min(plane.shape) >= MIN_SIDE:
            check = compare(self.package.input_stats, array_features(seen))
            if check.outside:
                self.notes.append(f"{where}: {check.summary()}")
        if self.residual and seen.shape == values.shape:
            return np.concatenate([values, seen - values])
        return values
