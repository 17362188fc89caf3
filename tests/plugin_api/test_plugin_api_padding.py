"""``pad_to_multiple`` / ``crop``: centred reflect padding, replicate for tiny inputs, exact undo."""

from __future__ import annotations

import pytest
import torch

from emkit.plugin_api import crop, pad_to_multiple


@pytest.mark.parametrize("h, w, m", [(224, 224, 16), (37, 61, 8), (256, 256, 32), (5, 9, 16), (1, 1, 4)])
def test_pad_then_crop_is_identity(h, w, m):
    x = torch.rand(2, 3, h, w)
    padded, box = pad_to_multiple(x, m)
    assert padded.shape[-2] % m == 0 and padded.shape[-1] % m == 0
    assert padded.shape[-2] - h < m and padded.shape[-1] - w < m
    assert torch.equal(crop(padded, box), x)


def test_padding_is_centred_reflection():
    x = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 1, 8, 6)
    padded, (top, left, h, w) = pad_to_multiple(x, 8)
    assert (top, left, h, w) == (0, 1, 8, 6)
    assert padded[0, 0, 0].tolist() == [1, 0, 1, 2, 3, 4, 5, 4]


def test_tiny_inputs_fall_back_to_replicate():
    x = torch.arange(3.0).view(1, 1, 1, 3)
    padded, _ = pad_to_multiple(x, 8)
    assert padded[0, 0, 0].tolist() == [0, 0, 0, 1, 2, 2, 2, 2]
