"""napari sample data from emkit's synthetic generators: the plugin works without any file.

Each entry renders the *test* split's sample 0 of ``seed`` 0 -- the same image on every
machine, and one that the built-in ``synthetic-*`` datasets never train on. Where the
generator knows the ground truth it comes as a labels layer (atom columns, particles),
so the fine-tune widget has an image + labels pair to start from; where it knows the
pixel size (HRTEM) it is the layer scale in nanometres.
"""

from __future__ import annotations

from typing import Any

LayerData = tuple[Any, dict[str, Any], str]

SEED, SPLIT = 0, "test"


def _one(kind: str, size: int):  # noqa: ANN202 - emkit.Synthetic
    import emkit

    return emkit.synthesize(kind, 1, size=size, seed=SEED, split=SPLIT)


def synthetic_cem(size: int = 512) -> list[LayerData]:
    """Cellular EM (membranes, mitochondria, vesicles), uint8 -- a pretraining image."""
    return [(_one("cem", size).image[0], {"name": "synthetic CEM"}, "image")]


def synthetic_stem(size: int = 256) -> list[LayerData]:
    """ADF-STEM crystal (noisy observation, clean image) and its atom-column mask."""
    sample = _one("stem", size)
    return [
        (sample.image[0], {"name": "synthetic STEM"}, "image"),
        (sample.clean[0], {"name": "synthetic STEM (no noise)", "visible": False}, "image"),
        (sample.mask[0], {"name": "atom columns", "opacity": 0.5}, "labels"),
    ]


def synthetic_hrtem(size: int = 512) -> list[LayerData]:
    """Au nanoparticles in HRTEM with the particle mask, at the generator's pixel size."""
    sample = _one("hrtem", size)
    pixel = float(sample.pixel_nm[0])
    scale = {"scale": (pixel, pixel), "units": ("nm", "nm")}
    return [
        (sample.image[0], {"name": "synthetic HRTEM", **scale}, "image"),
        (sample.mask[0], {"name": "particles", "opacity": 0.5, **scale}, "labels"),
    ]
