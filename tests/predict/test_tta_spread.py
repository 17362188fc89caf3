"""``--tta --spread``: how much the 8 rotated/flipped predictions disagree, per pixel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emkit.predict import OutputHead, TiledPredictor, TileSettings
from emkit.predict.tta import dihedral, inverse_dihedral

from run_support import needs_unet, randomize


def test_spread_of_images_is_the_std_and_of_segmentations_the_disagreeing_votes():
    stack = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]).reshape(8, 1, 1, 1, 1)
    assert OutputHead("image", 1).spread(stack).item() == pytest.approx(float(np.std(stack.numpy())))
    # binary: mean 0.5 is not above 0.5, so the 4 votes above the threshold disagree with the final mask
    assert OutputHead("binary", 1, 0.5).spread(stack).item() == pytest.approx(4 / 8)
    assert OutputHead("binary", 1, 0.35).spread(stack).item() == pytest.approx(3 / 8)
    # multi-class: 6 votes for class 0, 2 for class 1 → 2 of 8 disagree with the argmax of the mean
    votes = torch.tensor([[0.9, 0.1]] * 6 + [[0.2, 0.8]] * 2).reshape(8, 1, 2, 1, 1)
    assert OutputHead("multiclass", 2).spread(votes).item() == pytest.approx(2 / 8)
    assert OutputHead("multiclass", 2).spread_channels == 1 and OutputHead("image", 3).spread_channels == 3


def test_spread_needs_tta():
    with pytest.raises(ValueError, match="spread needs tta"):
        TileSettings(spread=True)


@needs_unet
def test_tiled_spread_equals_the_whole_images():
    from emkit.models import build_generator

    gen = randomize(build_generator("unet", {"blocks": 2, "width": 4}))
    head = OutputHead("image", 1)
    image = np.random.default_rng(2).random((1, 256, 192), dtype=np.float32)
    with torch.no_grad():
        x = torch.from_numpy(image)[None] * 2 - 1
        stack = torch.stack([inverse_dihedral(head.activate(gen(dihedral(x, k))), k) for k in range(8)])
    ref_mean, ref_std = stack.mean(0)[0].numpy(), stack.std(0, correction=0)[0].numpy()
    assert ref_std.max() > 1e-3  # a non-symmetric network disagrees with itself
    predictor = TiledPredictor(gen, head, TileSettings(tile=128, batch=2, tta=True, spread=True))
    out = predictor.predict_array(image)
    assert out.shape == (2, 256, 192)
    np.testing.assert_allclose(out[:1], ref_mean, atol=1e-4, rtol=0)
    np.testing.assert_allclose(out[1:], ref_std, atol=1e-4, rtol=0)
    rows = head.finalize(out)
    assert set(rows) == {"pred", "spread"} and rows["spread"].shape == (1, 256, 192)
