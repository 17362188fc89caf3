"""The package's test image: a real image of the run's data, sized to the spec's constraints.

By default the first image of the run's validation split (test, then train, when it
is empty) whose outputs the bioimage.io test can use (it refuses test tensors whose
values all lie within 1e-4 of zero, e.g. an empty mask; up to ``CANDIDATES`` images are
tried), built from the ``data`` section of the run's ``config.yaml`` exactly as the
run built it (``emkit.data.build.build_dataset``; synthetic datasets render the same image
on every machine). ``--test-image FILE`` uses a file instead. Values stay as the
dataset hands them to training (uint8/uint16 raw, floats as they are); the package's
pre-processing normalises them like ``emkit predict`` does.

``fit_size`` centre-crops the image to the largest side ``min + n * step`` that is at
most ``MAX_SIDE`` (small test tensors keep the package small), or pads it by
reflection up to ``min`` when it is smaller.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from emkit.errors import EmkitError
from emkit.predict.model_loading import LoadedModel

#: Largest side of the test tensors (unless the model's minimum size is larger).
MAX_SIDE = 256
SPLITS = ("val", "test", "train")
#: Images of the split tried in turn until one gives outputs the spec's test accepts.
CANDIDATES = 8


@dataclasses.dataclass(frozen=True)
class TestImage:
    """``(C, H, W)`` pixels and where they came from (for the documentation)."""

    __test__ = False  # not a pytest class
    pixels: np.ndarray
    origin: str


def candidate_images(model: LoadedModel, run: Path, image: Optional[Path] = None) -> Iterator[TestImage]:
    """Test image candidates of ``run`` in order (see the module docstring): the file, or the
    first ``CANDIDATES`` images of the first non-empty split."""
    if image is not None:
        from emkit.data.readers import as_2d, read_image

        arr = read_image(image)
        multi = arr.ndim == 3 and arr.shape[0] == model.in_channels and model.in_channels > 1
        arr = arr if multi else as_2d(arr, image)
        yield TestImage(arr[None] if arr.ndim == 2 else arr, f"file {image.name}")
        return
    data = model.run_data
    name = data.get("name")
    if not name:
        raise EmkitError(f"{run}: the run's config.yaml names no dataset (data.name); pass --test-image FILE")
    values = {k: v for k, v in data.items() if k != "name"}
    for split in SPLITS:
        dataset = _dataset(str(name), values, split, run)
        if len(dataset):
            for i in range(min(len(dataset), CANDIDATES)):
                yield TestImage(dataset[i]["image"].numpy(), f"image {i} of the {split} split of dataset {name!r}")
            return
    raise EmkitError(f"{run}: dataset {name!r} has no images in any split; pass --test-image FILE")


def _dataset(name: str, values: dict, split: str, run: Path):
    from emkit.data.build import build_dataset

    try:
        return build_dataset(name, values, split)
    except (EmkitError, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EmkitError(f"{run}: cannot open the run's dataset {name!r} ({first}); pass --test-image FILE") from None


def fit_size(pixels: np.ndarray, min_size: int, step: int) -> np.ndarray:
    """``(C, H, W)`` cropped (centred) or reflection-padded to sides ``min + n * step``."""
    out = pixels
    for axis in (1, 2):
        side = out.shape[axis]
        if side < min_size:
            before = (min_size - side) // 2
            pad = [(0, 0)] * 3
            pad[axis] = (before, min_size - side - before)
            out = np.pad(out, pad, mode="reflect" if side > 1 else "edge")
            continue
        limit = max(min(side, MAX_SIDE), min_size)
        target = min_size + (limit - min_size) // step * step
        start = (side - target) // 2
        out = np.take(out, np.arange(start, start + target), axis=axis)
    return np.ascontiguousarray(out)
