"""Sample data: emkit's synthetic generators as napari layers, opened through the manifest."""

from __future__ import annotations

import numpy as np
import pytest

from emkit_napari import sample_data


def test_samples_are_deterministic_and_paired() -> None:
    first, again = sample_data.synthetic_stem(), sample_data.synthetic_stem()
    np.testing.assert_array_equal(first[0][0], again[0][0])
    image, clean, mask = first
    assert [kind for _, _, kind in first] == ["image", "image", "labels"]
    assert image[0].shape == clean[0].shape == mask[0].shape == (256, 256)
    assert set(np.unique(mask[0])) == {0, 1}


def test_hrtem_carries_its_pixel_size() -> None:
    (image, kwargs, _), (mask, mkwargs, kind) = sample_data.synthetic_hrtem(256)
    assert kind == "labels" and kwargs["scale"] == mkwargs["scale"] and 0.01 < kwargs["scale"][0] < 1.0
    assert image.shape == mask.shape == (256, 256) and 0 < mask.mean() < 1


@pytest.mark.parametrize(("key", "names"), [
    ("synthetic-cem", ["synthetic CEM"]),
    ("synthetic-stem", ["synthetic STEM", "synthetic STEM (no noise)", "atom columns"]),
    ("synthetic-hrtem", ["synthetic HRTEM", "particles"]),
])
def test_open_sample_in_napari(make_napari_viewer, key: str, names: list[str]) -> None:  # noqa: ANN001
    viewer = make_napari_viewer()
    viewer.open_sample("emkit-napari", key)
    assert [layer.name for layer in viewer.layers] == names
