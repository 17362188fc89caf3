"""emkit's intensity rules as bioimage.io pre-processing steps give emkit's normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emkit.data.intensity import IntensityConfig
from emkit.errors import EmkitError
from emkit.export.bioimageio.preprocessing import apply_steps, describe_steps, input_steps
from emkit.plugin_api import to_unit


def _image(dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, (1, 1, 40, 50)).astype(np.uint8)
    if dtype == np.uint16:
        return rng.integers(0, 4096, (1, 1, 40, 50)).astype(np.uint16)
    if dtype == np.int16:
        return rng.integers(-3000, 3000, (1, 1, 40, 50)).astype(np.int16)
    return (rng.normal(1000.0, 50.0, (1, 1, 40, 50))).astype(np.float32)


CASES = [
    ({"normalize": "auto"}, np.uint8, "scale_linear"),
    ({"normalize": "auto"}, np.uint16, "scale_range"),
    ({"normalize": "auto"}, np.float32, "scale_range"),
    ({"normalize": "percentile", "percentile_low": 2.0, "percentile_high": 98.0}, np.uint8, "scale_range"),
    ({"normalize": "fixed", "scale": 4095}, np.uint16, "scale_linear"),
    ({"normalize": "fixed"}, np.int16, "scale_linear"),
    ({"normalize": "none"}, np.uint16, "scale_linear"),
    ({"normalize": "none"}, np.float32, None),
    ({"normalize": "meanstd", "mean": 0.4, "std": 0.1}, np.uint8, "scale_linear"),
]


@pytest.mark.parametrize("data,dtype,op", CASES)
def test_steps_reproduce_the_runs_normalisation(data, dtype, op):
    x = _image(dtype)
    steps = input_steps(data, np.dtype(dtype))
    ids = [s["id"] for s in steps]
    assert ids[0] == ids[-1] == "ensure_dtype"
    assert (op in ids) if op else ids == ["ensure_dtype", "ensure_dtype"]
    # what training and predict feed the network: the rule's output, integers scaled by the engine (to_unit)
    expected = to_unit(torch.from_numpy(np.ascontiguousarray(IntensityConfig.from_mapping(data).rule()(x[0, 0]))))
    expected = expected.numpy()
    got = apply_steps(steps, x.astype(np.float32))[0, 0]
    assert got.dtype == np.float32
    # scale_range divides by (hi - lo + 1e-6): a relative difference of 1e-6 / (hi - lo)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)
    assert 0.0 <= got.min() and (got.max() <= 1.0 or data["normalize"] == "none")


def test_steps_read_as_text_and_unknown_steps_are_refused():
    steps = input_steps({"normalize": "auto"}, np.dtype(np.uint8))
    assert describe_steps(steps) == ("ensure_dtype(dtype=float32) -> scale_linear(gain=0.00392156862745098, "
                                     "offset=0.0) -> ensure_dtype(dtype=float32)")
    with pytest.raises(EmkitError, match="'zero_mean_unit_variance' is not supported"):
        apply_steps([{"id": "zero_mean_unit_variance", "kwargs": {}}], np.zeros((1, 1, 4, 4)))
