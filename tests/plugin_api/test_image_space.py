"""``to_unit`` / ``to_model`` / ``from_model``: every integer type by its full range, floats as they are.

The expected values are computed here from numpy's ``iinfo`` in float64, not by emkit's code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from emkit.plugin_api import from_model, to_model, to_unit

INTEGER_TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64]


def spread(dtype, n=257):
    """``n`` values of ``dtype`` from its minimum to its maximum, both included."""
    info = np.iinfo(dtype)
    inner = np.linspace(float(info.min), float(info.max), n)[1:-1].astype(np.float64)
    values = [int(info.min)] + [int(v) for v in inner] + [int(info.max)]
    return np.array(values, dtype=dtype)


def expected_unit(values: np.ndarray) -> np.ndarray:
    info = np.iinfo(values.dtype)
    lo, hi = float(info.min), float(info.max)
    return ((values.astype(np.float64) - lo) / (hi - lo)).astype(np.float32)


@pytest.mark.parametrize("dtype", INTEGER_TYPES, ids=lambda d: np.dtype(d).name)
def test_every_integer_type_maps_its_range_onto_0_1(dtype):
    values = spread(dtype)
    unit = to_unit(torch.from_numpy(values))
    assert unit.dtype == torch.float32
    assert float(unit[0]) == 0.0 and float(unit[-1]) == 1.0
    np.testing.assert_allclose(unit.numpy(), expected_unit(values), rtol=0, atol=1e-7)
    assert bool((unit[1:] >= unit[:-1]).all())  # order kept: negative values below zero's image


def test_signed_values_keep_their_order_inside_0_1():
    unit = to_unit(torch.tensor([-32768, -1, 0, 1, 32767], dtype=torch.int16)).tolist()
    assert unit[0] == 0.0 and unit[-1] == 1.0 and unit[1] < unit[2] < unit[3]
    assert unit[2] == pytest.approx(32768 / 65535, abs=1e-7)
    assert to_unit(torch.tensor([-128, 127], dtype=torch.int8)).tolist() == [0.0, 1.0]


def test_floats_and_bool_pass_unchanged():
    f = torch.tensor([-0.25, 0.0, 0.5, 1.5], dtype=torch.float64)
    assert to_unit(f).dtype == torch.float32 and to_unit(f).tolist() == [-0.25, 0.0, 0.5, 1.5]
    assert to_unit(torch.tensor([False, True])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("dtype", INTEGER_TYPES, ids=lambda d: np.dtype(d).name)
def test_scripted_to_unit_equals_eager(dtype):
    """Exported models script this very function; it must give the same numbers."""
    x = torch.from_numpy(spread(dtype, 33))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit's notice; export silences it too
        scripted = torch.jit.script(to_unit)
    assert torch.equal(scripted(x), to_unit(x))


def test_model_space_is_minus_one_to_one():
    unit = torch.tensor([0.0, 0.25, 0.5, 1.0])
    assert to_model(unit).tolist() == [-1.0, -0.5, 0.0, 1.0]
    assert from_model(torch.tensor([-1.0, 0.0, 1.0, 3.0])).tolist() == [0.0, 0.5, 1.0, 2.0]  # not clamped
    x = torch.rand(64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(from_model(to_model(x)), x, atol=1e-7)
