"""Fixtures writing small image files of every supported format and every kind of damage."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def write_tiff(tmp_path):
    import tifffile

    def write(name, arr, **kwargs):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, arr, **kwargs)
        return path

    return write


@pytest.fixture
def write_png(tmp_path):
    from PIL import Image

    def write(name, arr, **kwargs):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(path, **kwargs)
        return path

    return write
