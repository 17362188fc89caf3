"""Build dataset plugins the way a run does (validated Config), and write test corpora."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def build():
    from emkit.data.build import build_dataset

    def make(name, split="train", **values):
        return build_dataset(name, values, split)

    return make


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def noise_image(rng):
    def make(shape=(32, 32), dtype=np.uint8):
        if np.dtype(dtype).kind == "f":
            return rng.random(shape).astype(dtype)
        return rng.integers(1, np.iinfo(dtype).max, shape).astype(dtype)

    return make
