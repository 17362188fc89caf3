"""The training inputs' statistics of a run: collected from its dataset, kept as JSON.

``collect_stats(dataset)`` computes ``ImageFeatures`` for up to ``SAMPLES`` images spread
evenly over the train split (the ``image`` of each sample, in [0, 1] as the generator
sees it, channels averaged). ``write_stats(folder, dataset)`` stores them as
``<folder>/input_stats.json`` (rank 0 does this when a run starts); ``load_stats`` reads
the file back (None when it is absent: runs made before emkit recorded it).

The file is small (about 40 numbers per image, 4-5 significant digits): it travels with
exported bioimage.io packages. A dataset may declare ``pixel_size_nm`` (one number, or
a (min, max) range); it is recorded so prediction can compare pixel sizes too.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Optional

import numpy as np

from emkit.data.input_stats.features import BAND_EDGES, HIST_BINS, MIN_SIDE, WINDOW, ImageFeatures, array_features
from emkit.errors import DataError
from emkit.storage.json_files import read_json

STATS_FILE = "input_stats.json"
FORMAT = "emkit-input-stats"
VERSION = 1
#: Training images described at most (evenly spaced over the split).
SAMPLES = 96


@dataclasses.dataclass
class InputStats:
    """Features of a sample of training inputs (+ their pixel-size range when known)."""

    features: list[ImageFeatures]
    source: str = ""
    pixel_size_nm: Optional[tuple[float, float]] = None

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "source": self.source, "images": len(self.features),
                "window": WINDOW, "hist_bins": HIST_BINS, "band_edges": [round(f, 6) for f in BAND_EDGES],
                "pixel_size_nm": list(self.pixel_size_nm) if self.pixel_size_nm else None,
                "features": [f.to_json() for f in self.features]}

    @classmethod
    def from_json(cls, data: Any, where: str = "input statistics") -> "InputStats":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"{where}: not an emkit input-statistics file (format: {FORMAT})")
        if data.get("version") != VERSION or data.get("hist_bins") != HIST_BINS or data.get("window") != WINDOW:
            raise DataError(f"{where}: written by another emkit version (format version {data.get('version')}, "
                            f"this emkit reads {VERSION})")
        try:
            features = [ImageFeatures.from_json(f) for f in data["features"]]
            size = data.get("pixel_size_nm")
            pixel = (float(size[0]), float(size[1])) if size else None
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(f"{where}: malformed entry ({type(exc).__name__}: {exc})") from None
        if not features:
            raise DataError(f"{where}: describes no images")
        return cls(features, str(data.get("source", "")), pixel)


def _unit_image(image: Any) -> np.ndarray:
    """A sample's ``image`` tensor (or array) → float32 ``(H, W)`` in [0, 1], channels averaged."""
    import torch

    from emkit.plugin_api.image_space import to_unit

    tensor = image if isinstance(image, torch.Tensor) else torch.from_numpy(np.asarray(image))
    arr = to_unit(tensor).numpy()
    return arr.mean(axis=0) if arr.ndim == 3 else arr


def _pixel_range(dataset: Any) -> Optional[tuple[float, float]]:
    size = getattr(dataset, "pixel_size_nm", None)
    if size is None:
        return None
    values = [float(s) for s in (size if isinstance(size, (tuple, list)) else (size, size))]
    return (min(values), max(values)) if all(math.isfinite(v) and v > 0 for v in values) else None


def collect_stats(dataset: Any, samples: int = SAMPLES, source: str = "") -> Optional[InputStats]:
    """Statistics of up to ``samples`` evenly spaced items of ``dataset`` (None if none is usable).

    Items that cannot be read (a ``DataError``, e.g. a file skipped under ``on_error=skip``)
    and images below ``MIN_SIDE`` pixels are left out.
    """
    n = len(dataset)
    indices = sorted({int(i) for i in np.linspace(0, n - 1, min(samples, n)).round()}) if n else []
    features = []
    for i in indices:
        try:
            image = _unit_image(dataset[i]["image"])
        except DataError:
            continue
        if min(image.shape) >= MIN_SIDE:
            features.append(array_features(image))
    if not features:
        return None
    return InputStats(features, source, _pixel_range(dataset))


def write_stats(folder: str | Path, dataset: Any, source: str = "") -> Optional[Path]:
    """Collect the statistics of ``dataset`` and write ``<folder>/input_stats.json`` (None: nothing usable)."""
    from emkit.storage.atomic import write_text_atomic

    stats = collect_stats(dataset, source=source)
    if stats is None:
        return None
    path = Path(folder) / STATS_FILE
    write_text_atomic(path, json.dumps(stats.to_json(), separators=(",", ":")) + "\n", create_parents=False)
    return path


def load_stats(path: str | Path) -> Optional[InputStats]:
    """The statistics at ``path`` (a run folder or the JSON file); None when there are none.

    A file that exists but cannot be used raises one ``DataError`` line.
    """
    path = Path(path)
    if path.is_dir():
        path = path / STATS_FILE
    if not path.is_file():
        return None
    return InputStats.from_json(read_json(path, DataError, "input statistics"), str(path))
