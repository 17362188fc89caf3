"""Write synthetic datasets to disk in the layout of the real published datasets.

``emkit data synth`` uses these so that the real readers (``temimagenet``, ``au-hdf5``,
``folder``) can be tested and tried end to end without downloading anything:

* ``stem``  -> TEMImageNet: ``image/``, ``noNoise/``, ``noBackgroundnoNoise/``,
  ``noNoiseNoBackgroundSuperresolution/``, ``circularMask/`` with 8-bit PNGs ``00000.png``...
* ``hrtem`` -> Au HDF5: ``au_synthetic_000.h5``... with ``images`` (N, 1, H, W) float32 and
  ``maps`` (N, 2, H, W) float32 (channel 0 background, channel 1 particle);
* ``cem``   -> CEM500K: ``source_00/``... folders of 8-bit TIFFs (224 px by default).

File ``i`` holds sample ``i`` of the synthetic dataset's train split for the same seed
and size, so a test can compare the reader's output with the generator's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional


from emkit.data.synthetic.fields import rng_for
from emkit.errors import DataError

KINDS = {"stem": "synthetic-stem", "hrtem": "synthetic-hrtem", "cem": "synthetic-cem"}
DEFAULT_SIZES = {"stem": 256, "hrtem": 512, "cem": 224}

Progress = Optional[Callable[[int], None]]


def kind_of(name: str) -> str:
    """"stem"/"hrtem"/"cem" from a short or dataset name (``synthetic-stem``)."""
    short = name.removeprefix("synthetic-")
    if short not in KINDS:
        raise DataError(f"Unknown synthetic kind {name!r}; choose one of: {', '.join(KINDS)}")
    return short


def write_temimagenet(out: Path, n: int, *, seed: int = 0, size: int = 256, progress: Progress = None) -> None:
    from PIL import Image

    from emkit.data.synthetic.stem import render_stem

    folders = ("image", "noNoise", "noBackgroundnoNoise", "noNoiseNoBackgroundSuperresolution", "circularMask")
    for folder in folders:
        (out / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        arrays = render_stem(rng_for(seed, "stem", "train", i), size).as_uint8()
        for folder in folders:
            Image.fromarray(arrays[folder]).save(out / folder / f"{i:05d}.png")
        if progress:
            progress(1)


def write_au_hdf5(
    out: Path, n: int, *, seed: int = 0, size: int = 512, per_file: int = 64, progress: Progress = None
) -> None:
    import h5py

    from emkit.data.synthetic.hrtem import render_hrtem

    out.mkdir(parents=True, exist_ok=True)
    for f, start in enumerate(range(0, n, per_file)):
        count = min(per_file, n - start)
        with h5py.File(out / f"au_synthetic_{f:03d}.h5", "w") as fh:
            images = fh.create_dataset("images", (count, 1, size, size), dtype="float32")
            maps = fh.create_dataset("maps", (count, 2, size, size), dtype="float32")
            for j in range(count):
                smp = render_hrtem(rng_for(seed, "hrtem", "train", start + j), size)
                images[j, 0] = smp.image
                maps[j, 0] = 1.0 - smp.mask
                maps[j, 1] = smp.mask
                if progress:
                    progress(1)
            fh.attrs["source"] = "emkit synthetic-hrtem"
            fh.attrs["first_index"] = start


def write_cem_folders(
    out: Path, n: int, *, seed: int = 0, size: int = 224, sources: int = 4, progress: Progress = None
) -> None:
    import tifffile

    from emkit.data.synthetic.cem import render_cem

    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        folder = out / f"source_{i % max(1, sources):02d}"
        folder.mkdir(exist_ok=True)
        tifffile.imwrite(folder / f"img_{i:05d}.tif", render_cem(rng_for(seed, "cem", "train", i), size))
        if progress:
            progress(1)


def write_synthetic(kind: str, out: Path, n: int, *, seed: int = 0, size: Optional[int] = None,
                    sources: int = 4, progress: Progress = None) -> str:
    """Write ``n`` samples of ``kind``; returns the dataset plugin that reads the result."""
    short = kind_of(kind)
    if n < 1:
        raise DataError(f"--n must be at least 1, got {n}")
    size = size or DEFAULT_SIZES[short]
    if short == "stem":
        write_temimagenet(out, n, seed=seed, size=size, progress=progress)
        return "temimagenet"
    if short == "hrtem":
        write_au_hdf5(out, n, seed=seed, size=size, progress=progress)
        return "au-hdf5"
    write_cem_folders(out, n, seed=seed, size=size, sources=sources, progress=progress)
    return "folder"
