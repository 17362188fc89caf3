"""Tiled inference reproduces whole-image inference; blending leaves no seams."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from emkit.predict import OutputHead, TiledPredictor, TileSettings
from emkit.predict.tta import dihedral, inverse_dihedral, tta_forward

from run_support import needs_unet, randomize


def whole_image(gen: nn.Module, head: OutputHead, image: np.ndarray) -> np.ndarray:
    """Reference: the generator on the whole (C, H, W) image in [0, 1]."""
    with torch.no_grad():
        y = gen(torch.from_numpy(image)[None] * 2 - 1)
        return head.activate(y)[0].numpy()


@needs_unet
@pytest.mark.parametrize(
    "config,tile,size,nhwc",
    [({"blocks": 2, "width": 4}, 128, (301, 257), False), ({"blocks": 3, "width": 4}, 256, (517, 450), False),
     ({"blocks": 2, "width": 4}, 128, (200, 333), True)],
    ids=["U-Net_2_44", "U-Net_3_96", "U-Net_2_44-channels_last"],
)
def test_tiled_equals_whole_image_for_unet(config, tile, size, nhwc):
    from emkit.models import build_generator

    gen = randomize(build_generator("unet", config))
    head = OutputHead("binary", 1)  # sigmoid: no clamping hides differences
    image = np.random.default_rng(1).random((1, *size), dtype=np.float32)
    ref = whole_image(gen, head, image)
    assert ref.std() > 0.05  # the comparison is not vacuous

    predictor = TiledPredictor(gen, head, TileSettings(tile=tile, batch=3, channels_last=nhwc))
    assert predictor.overlap.exact and predictor.overlap.margin >= gen.receptive_field / 2
    _, grid = predictor.plan(*size)
    assert len(grid) >= 9 and all(y % gen.size_multiple == 0 for y in grid.ys + grid.xs)
    out = predictor.predict_array(image)
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)


@needs_unet
def test_memory_format_auto_follows_training():
    """TileSettings.channels_last=None means what train.channels_last=None means: NHWC on the CPU."""
    from emkit.models import build_generator

    gen = build_generator("unet", {"blocks": 2, "width": 4})
    assert TiledPredictor(gen, OutputHead("binary", 1), TileSettings()).memory_format == torch.channels_last
    off = TiledPredictor(build_generator("unet", {"blocks": 2, "width": 4}), OutputHead("binary", 1),
                         TileSettings(channels_last=False))
    assert off.memory_format == torch.contiguous_format


@needs_unet
def test_too_small_overlap_is_detectably_different():
    """The exactness test has teeth: an overlap far below the receptive field shows seams."""
    from emkit.models import build_generator

    gen = randomize(build_generator("unet", {"blocks": 3, "width": 4}))
    head = OutputHead("binary", 1)
    image = np.random.default_rng(1).random((1, 300, 300), dtype=np.float32)
    ref = whole_image(gen, head, image)
    predictor = TiledPredictor(gen, head, TileSettings(tile=128, overlap=16))
    assert not predictor.overlap.exact
    assert np.abs(predictor.predict_array(image) - ref).max() > 1e-3


@needs_unet
def test_tiled_tta_equals_whole_image_tta():
    from emkit.models import build_generator

    gen = randomize(build_generator("unet", {"blocks": 2, "width": 4}))
    head = OutputHead("binary", 1)
    image = np.random.default_rng(2).random((1, 256, 192), dtype=np.float32)  # multiples: no padding
    with torch.no_grad():
        ref = tta_forward(lambda t: head.activate(gen(t)), torch.from_numpy(image)[None] * 2 - 1)[0].numpy()
        plain = whole_image(gen, head, image)
    assert np.abs(ref - plain).max() > 1e-3  # TTA changes the result of a non-symmetric network
    out = TiledPredictor(gen, head, TileSettings(tile=128, batch=2, tta=True)).predict_array(image)
    np.testing.assert_allclose(out, ref, atol=1e-4, rtol=0)


def test_dihedral_transforms_are_distinct_and_invertible():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    seen = set()
    for k in range(8):
        y = dihedral(x, k)
        seen.add(tuple(y.flatten().tolist()) + tuple(y.shape))
        torch.testing.assert_close(inverse_dihedral(y, k), x)
    assert len(seen) == 8


class PointwiseGenerator(nn.Module):
    """A position-independent network (1×1 convolutions): a constant image must stay constant."""

    size_multiple = 4
    receptive_field = None  # unknown: the planner falls back to a non-exact overlap with a ramp

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 1), nn.Tanh(), nn.Conv2d(8, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@pytest.mark.parametrize("tta", [False, True])
def test_constant_image_blends_to_constant(tta):
    torch.manual_seed(0)
    gen = PointwiseGenerator().eval()
    head = OutputHead("image", 1)
    predictor = TiledPredictor(gen, head, TileSettings(tile=64, batch=5, tta=tta))
    assert predictor.overlap.ramp > 0 and predictor.overlap.margin > 0
    image = np.full((1, 301, 250), 0.37, np.float32)
    _, grid = predictor.plan(301, 250)
    assert len(grid) > 20
    out = predictor.predict_array(image)
    expected = whole_image(gen, head, image[:, :8, :8])[0, 0, 0]
    assert 0.0 < expected < 1.0
    np.testing.assert_allclose(out, expected, atol=1e-6, rtol=0)


def test_multiclass_probabilities_sum_to_one_after_blending():
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1)).eval()
    head = OutputHead("multiclass", 3)
    predictor = TiledPredictor(gen, head, TileSettings(tile=32, overlap=12), receptive_field=3)
    image = np.random.default_rng(0).random((1, 70, 90), dtype=np.float32)
    out = predictor.predict_array(image)
    np.testing.assert_allclose(out.sum(0), 1.0, atol=1e-5)
    np.testing.assert_allclose(out, whole_image(gen, head, image), atol=1e-5)
    labels = head.finalize(out)["mask"]
    assert labels.shape == (1, 70, 90) and labels.dtype == np.uint8 and labels.max() <= 2


def test_settings_are_validated():
    with pytest.raises(ValueError):
        dataclasses.replace(TileSettings(), batch=0)
