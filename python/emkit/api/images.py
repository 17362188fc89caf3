"""Images for programs: read an EM file with its pixel size, and synthesise labelled EM data.

* ``emkit.read_image(path)`` → ``Image``: the pixels as emkit's readers return them
  (TIFF, PNG/JPEG, HDF5, MRC; DM3/DM4/EMD/SER with ``emkit[em-formats]``; content
  sniffing; one error line naming a bad file) plus the pixel size in nanometres when
  the file records one. ``IMAGE_SUFFIXES`` lists the file name endings emkit reads.
* ``emkit.synthesize(kind, n)`` → ``Synthetic``: ``n`` images of emkit's built-in
  synthetic families with their ground truth -- ``stem`` (atomic-resolution ADF-STEM:
  ``image``, ``target`` = no noise and no background, ``clean`` = no noise, ``mask`` =
  atom columns), ``hrtem`` (Au nanoparticles: ``image``, ``mask``, ``pixel_nm``), ``cem``
  (cellular EM: ``image``, ``mask`` = mitochondria). Images are float32 in [0, 1] (cem:
  uint8), masks uint8; the same (kind, n, size, seed, split) gives the same arrays on
  every machine, drawn exactly as the ``synthetic-*`` datasets draw that split.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np

from emkit.errors import EmkitError

KINDS = ("stem", "hrtem", "cem")


def _suffixes(plain: bool) -> tuple[str, ...]:
    from emkit.data.formats import FORMAT_EXTENSIONS

    return tuple(sorted({ext for family, exts in FORMAT_EXTENSIONS.items() if plain or family != "pil"
                         for ext in exts}))


def __getattr__(name: str) -> tuple[str, ...]:
    if name == "IMAGE_SUFFIXES":  # every file name ending emkit reads
        return _suffixes(True)
    if name == "EM_SUFFIXES":  # the same without the plain picture formats (PNG, JPEG, ...)
        return _suffixes(False)
    raise AttributeError(name)


@dataclasses.dataclass(frozen=True)
class Image:
    """Pixels (``(H, W)`` or a stack) and, when the file records them, the (y, x) pixel size in nm
    and its description text."""

    array: np.ndarray
    pixel_size_nm: Optional[tuple[float, float]]
    format: str
    path: Path
    description: Optional[str] = None


def read_image(path: str | Path, *, key: Optional[str] = None, check: bool = True) -> Image:
    """The image in ``path`` with its pixel size (HDF5: ``key`` names the dataset).

    ``check`` refuses NaN/Inf and constant images as training does; ``check=False`` returns
    the pixels as stored (for viewing).
    """
    from emkit.data.formats import sniff_format
    from emkit.data.readers import read_image as read
    from emkit.predict.metadata import read_meta

    path = Path(path)
    family = sniff_format(path)
    array = read(path, key=key, check=check)
    meta = read_meta(path, family, key)
    return Image(array, meta.pixel_size_nm, family, path, meta.description)


@dataclasses.dataclass(frozen=True)
class Synthetic:
    """``n`` synthetic images and their ground truth (see the module docstring)."""

    kind: str
    image: np.ndarray
    mask: np.ndarray
    target: Optional[np.ndarray] = None
    clean: Optional[np.ndarray] = None
    pixel_nm: Optional[np.ndarray] = None


def synthesize(kind: str, n: int, *, size: int = 128, seed: int = 0, split: str = "train") -> Synthetic:
    """``n`` images of family ``kind`` (stem, hrtem, cem), ``size`` pixels square."""
    from emkit.data.synthetic.fields import rng_for

    if kind not in KINDS:
        raise EmkitError(f"synthesize: unknown kind {kind!r}; available: {', '.join(KINDS)}")
    if n < 1 or size < 64:
        raise EmkitError(f"synthesize: need n >= 1 and size >= 64, got n={n} size={size}")
    rngs = [rng_for(seed, kind, split, i) for i in range(n)]
    if kind == "stem":
        from emkit.data.synthetic.stem import render_stem

        samples = [render_stem(r, size) for r in rngs]
        return Synthetic(kind, np.stack([s.image for s in samples]), np.stack([s.mask for s in samples]),
                         target=np.stack([s.no_background for s in samples]),
                         clean=np.stack([s.no_noise for s in samples]))
    if kind == "hrtem":
        from emkit.data.synthetic.hrtem import render_hrtem

        samples = [render_hrtem(r, size) for r in rngs]
        return Synthetic(kind, np.stack([s.image for s in samples]), np.stack([s.mask for s in samples]),
                         pixel_nm=np.array([s.pixel_nm for s in samples]))
    from emkit.data.synthetic.cem import render_cem_with_mask

    pairs = [render_cem_with_mask(r, size) for r in rngs]
    return Synthetic(kind, np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))
