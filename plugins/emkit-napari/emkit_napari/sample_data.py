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

SEED, SPLIT, INDEX = 0, "test", 0


def _rng(generator: str):  # noqa: ANN202 - numpy Generator
    from emkit.data.synthetic.fields import rng_for

    return rng_for(SEED, generator, SPLIT, INDEX)


def synthetic_cem(size: int = 512) -> list[LayerData]:
    """Cellular EM (membranes, mitochondria, vesicles), uint8 -- a pretraining image."""
    from emkit.data.synthetic.cem import render_cem

    image = render_cem(_rng("cem"), size)
    return [(image, {"name": "synthetic CEM"}, "image")]


def synthetic_stem(size: int = 256) -> list[LayerData]:
    """ADF-STEM crystal (noisy observation, clean image) and its atom-column mask."""
    from emkit.data.synthetic.stem import render_stem

    sample = render_stem(_rng("stem"), size)
    return [
        (sample.image, {"name": "synthetic STEM"}, "image"),
        (sample.no_noise, {"name": "synthetic STEM (no noise)", "visible": False}, "image"),
        (sample.mask, {"name": "atom columns", "opacity": 0.5}, "labels"),
    ]


def synthetic_hrtem(size: int = 512) -> list[LayerData]:
    """Au nanoparticles in HRTEM with the particle mask, at the generator's pixel size."""
    from emkit.data.synthetic.hrtem import render_hrtem

    sample = render_hrtem(_rng("hrtem"), size)
    scale = {"scale": (sample.pixel_nm, sample.pixel_nm), "units": ("nm", "nm")}
    return [
        (sample.image, {"name": "synthetic HRTEM", **scale}, "image"),
        (sample.mask, {"name": "particles", "opacity": 0.5, **scale}, "labels"),
    ]
