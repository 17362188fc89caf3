"""sample_degrade_params: shapes, ranges, crops kept inside the image, determinism."""

from __future__ import annotations

import math

import pytest
import torch
from emkit.ops import PARAM_COLUMNS, DegradeRanges, sample_degrade_params

COL = {name: k for k, name in enumerate(PARAM_COLUMNS)}


def draw(n=4000, in_hw=(300, 260), out_hw=(128, 96), ranges=None, seed=0):
    return sample_degrade_params(n, in_hw, out_hw, ranges or DegradeRanges(),
                                 generator=torch.Generator().manual_seed(seed))


def test_columns_and_shape():
    assert PARAM_COLUMNS == ("cx", "cy", "angle", "scale", "flip", "sigma", "noise", "dose")
    p = draw(7)
    assert p.shape == (7, 8) and p.dtype == torch.float32 and p.is_contiguous()
    assert draw(0).shape == (0, 8)


def test_ranges_and_probabilities():
    r = DegradeRanges(rotation=30.0, scale=(0.8, 1.2), flip_prob=0.25, blur_prob=0.5, sigma=(1.0, 2.0),
                      noise_prob=0.75, noise=(0.05, 0.1), dose_prob=0.5, dose=(10.0, 20.0))
    p = draw(ranges=r)
    n = p.shape[0]
    assert p[:, COL["angle"]].abs().max() <= math.radians(30.0) + 1e-6
    assert p[:, COL["scale"]].min() >= 0.8 and p[:, COL["scale"]].max() <= 1.2
    assert set(p[:, COL["flip"]].unique().tolist()) == {0.0, 1.0}
    for name, prob, (lo, hi) in (("sigma", 0.5, r.sigma), ("noise", 0.75, r.noise), ("dose", 0.5, r.dose)):
        v = p[:, COL[name]]
        on = v > 0
        assert abs(on.double().mean().item() - prob) < 5 * math.sqrt(prob * (1 - prob) / n)
        assert v[on].min() >= lo and v[on].max() <= hi
    assert abs(p[:, COL["flip"]].mean().item() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / n)


def test_defaults_never_dose():
    assert (draw()[:, COL["dose"]] == 0).all()


def sampled_extent(p, out_hw):
    """Input coordinates of the output pixel centres at the four corners of each crop."""
    h, w = out_hw
    xs = torch.tensor([0.5 - w / 2, w / 2 - 0.5, 0.5 - w / 2, w / 2 - 0.5])
    ys = torch.tensor([0.5 - h / 2, 0.5 - h / 2, h / 2 - 0.5, h / 2 - 0.5])
    cx, cy, a, s, f = (p[:, COL[k]][:, None] for k in ("cx", "cy", "angle", "scale", "flip"))
    x = xs * (1 - 2 * f)
    u = cx + s * (torch.cos(a) * x - torch.sin(a) * ys)
    v = cy + s * (torch.sin(a) * x + torch.cos(a) * ys)
    return u, v


def test_crops_stay_inside_when_they_fit():
    in_hw, out_hw = (300, 260), (128, 96)
    p = draw(in_hw=in_hw, out_hw=out_hw)
    u, v = sampled_extent(p, out_hw)
    assert u.min() >= 0.5 - 1e-3 and u.max() <= in_hw[1] - 0.5 + 1e-3
    assert v.min() >= 0.5 - 1e-3 and v.max() <= in_hw[0] - 0.5 + 1e-3
    # and they are spread over the room there is
    assert p[:, COL["cx"]].std() > 10 and p[:, COL["cy"]].std() > 10


def test_crops_that_cannot_fit_are_centred():
    p = draw(in_hw=(64, 200), out_hw=(64, 64), ranges=DegradeRanges(rotation=0.0, scale=(1.05, 1.1)))
    assert torch.allclose(p[:, COL["cy"]], torch.full((p.shape[0],), 32.0))
    assert p[:, COL["cx"]].std() > 5  # the other axis still moves


def test_deterministic_with_a_generator():
    assert torch.equal(draw(seed=3), draw(seed=3))
    assert not torch.equal(draw(seed=3), draw(seed=4))


@pytest.mark.parametrize(
    "kwargs",
    [dict(rotation=-1.0), dict(rotation=200.0), dict(scale=(0.0, 1.0)), dict(scale=(1.2, 1.1)),
     dict(flip_prob=1.5), dict(sigma=(0.5, 6.0)), dict(noise=(-0.1, 0.1)), dict(dose=(0.0, 5.0)),
     dict(sigma="wide")],
)
def test_bad_ranges(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        DegradeRanges(**kwargs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n"):
        sample_degrade_params(-1, (8, 8), (8, 8), DegradeRanges())
    with pytest.raises(ValueError, match="input_size"):
        sample_degrade_params(1, (8, 0), (8, 8), DegradeRanges())
    with pytest.raises(ValueError, match="output_size"):
        sample_degrade_params(1, (8, 8), "big", DegradeRanges())
    with pytest.raises(ValueError, match="ranges"):
        sample_degrade_params(1, (8, 8), (8, 8), {"rotation": 10})
    assert DegradeRanges(sigma=[0.5, 1.0]).sigma == (0.5, 1.0)  # lists from YAML become tuples
