"""``emkit predict --preview``: a labelled PNG beside each input's output TIFFs.

``<stem>_preview.png`` shows the input's first image and every output written for it
(prediction, or probability + mask) side by side under column titles, the file name
above the row -- so a user can judge a prediction without opening float TIFFs in a
viewer. Large images are subsampled by striding (at most ``max_side`` pixels), reading
only the rows shown. Intensities are stretched to the 0.5-99.5 percentiles per panel
(inputs and restorations have arbitrary units); probabilities keep [0, 1], masks are
scaled by their largest label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import numpy as np

#: Column title of each output suffix.
TITLES = {"pred": "prediction", "prob": "probability", "mask": "mask"}


def read_first_image(path: Path, *, key: Optional[str] = None, max_side: int = 512) -> np.ndarray:
    """The first image (first channel) of ``path`` as float32, strided to at most ``max_side``."""
    from emkit.predict.inputs.sources import open_source

    with open_source(path, 1, key=key) as source:
        _, _, h, w = source.shape
        step = max(1, -(-max(h, w) // max_side))
        rows = [source.read_rows(0, r, r + 1)[0, 0, ::step] for r in range(0, h, step)]
    return np.stack(rows).astype(np.float32)


def to_uint8(values: np.ndarray, kind: str) -> np.ndarray:
    """Display values: percentile-stretched images, [0, 1] probabilities, scaled masks."""
    values = values.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.all():  # --nan fill predicted it: show the holes as the median, like the prediction saw them
        values = np.where(finite, values, float(np.median(values[finite])) if finite.any() else 0.0)
    if kind == "prob":
        low, high = 0.0, 1.0
    elif kind == "mask":
        low, high = 0.0, max(float(values.max()), 1.0)
    else:
        low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        high = high if high > low else low + 1.0
    return (np.clip((values - low) / (high - low), 0, 1) * 255 + 0.5).astype(np.uint8)


def write_preview(source: Path, outputs: Mapping[str, Path], out: Path, *, key: Optional[str] = None,
                  max_side: int = 512, label: Optional[str] = None) -> Path:
    """Write ``out`` (PNG): input | one column per output (``{suffix: tiff path}``), row named ``label``."""
    from emkit.data.grids import labelled_grid

    cells = [to_uint8(read_first_image(source, key=key, max_side=max_side), "input")]
    titles = ["input"]
    for suffix, path in outputs.items():
        cells.append(to_uint8(read_first_image(path, max_side=max_side), suffix))
        titles.append(TITLES.get(suffix, suffix))
    return labelled_grid([cells], titles, [label or source.name]).save(out)


def write_previews(items: list, suffixes: list[str], out_dir: Path, *, key: Optional[str] = None) -> list[Path]:
    """One ``<stem>_preview.png`` per predicted input (``items``: ``InputFile``s) in ``out_dir``.

    Inputs without their outputs (skipped with ``--on-error skip``) get no preview.
    """
    written = []
    for item in items:
        outputs = {s: out_dir / f"{item.stem}_{s}.tif" for s in suffixes}
        if not all(path.exists() for path in outputs.values()):
            continue
        written.append(write_preview(item.path, outputs, out_dir / f"{item.stem}_preview.png", key=key,
                                     label=item.stem + item.path.suffix))
    return written
