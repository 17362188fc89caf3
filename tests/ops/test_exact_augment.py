"""Pixel-exact augmentation (``task.augment.exact``): whole pixels moved, never interpolated."""

from __future__ import annotations

import contextlib

import pytest
import torch

from emkit.config import resolve
from emkit.errors import ConfigError
from emkit.ops.augment import AugmentConfig, augment_pair
from emkit.ops.exact_augment import exact_crops, quarter_turns
from emkit.plugin_api.padding import pad_to_size
from emkit.plugin_api import StepContext

EXACT = AugmentConfig(exact=True, scale=(1.0, 1.0))


def ctx(seed: int = 0) -> StepContext:
    return StepContext(device=torch.device("cpu"), autocast=contextlib.nullcontext, seed=seed)


def noise(n: int = 8, size: int = 128) -> torch.Tensor:
    return torch.rand((n, 1, size, size), generator=torch.Generator().manual_seed(0))


def test_values_are_copied_not_interpolated():
    x = noise()
    image, _ = augment_pair(x, x.clone(), crop=64, ranges=EXACT.ranges(), ctx=ctx(), other_is_mask=False, exact=True)
    source = set(x.flatten().tolist())
    assert all(v in source for v in image.flatten().tolist())
    # white noise keeps its spread (the bilinear warp loses about a third of it, below)
    assert abs(image.std().item() - x.std().item()) < 0.01


def test_the_warp_smooths_noise_which_is_why_exact_exists():
    x = noise()
    warp = AugmentConfig(rotation=0.0, scale=(1.0, 1.0))
    image, _ = augment_pair(x, x.clone(), crop=64, ranges=warp.ranges(), ctx=ctx(), other_is_mask=False)
    assert image.std().item() < 0.85 * x.std().item()


def test_image_and_mask_share_the_geometry():
    x = noise(n=16)
    mask = (x > 0.5).float()
    image, out_mask = augment_pair(x, mask, crop=48, ranges=EXACT.ranges(), ctx=ctx(1), other_is_mask=True,
                                   exact=True)
    assert torch.equal(out_mask, (image > 0.5).float())


def test_same_step_seed_same_crops_other_seed_other_crops():
    x = noise()
    a = exact_crops(x, 32, rotation=180, flip_prob=0.5, generator=torch.Generator().manual_seed(5))
    b = exact_crops(x, 32, rotation=180, flip_prob=0.5, generator=torch.Generator().manual_seed(5))
    c = exact_crops(x, 32, rotation=180, flip_prob=0.5, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_every_crop_is_a_turned_or_mirrored_window_of_its_image():
    x = noise(n=4, size=16)
    out = exact_crops(x, 8, rotation=180, flip_prob=0.5, generator=torch.Generator().manual_seed(2))
    for i in range(4):
        windows = [x[i, :, y:y + 8, w:w + 8] for y in range(9) for w in range(9)]
        variants = [torch.flip(torch.rot90(t, k, (-2, -1)), (-1,)) if f else torch.rot90(t, k, (-2, -1))
                    for t in windows for k in range(4) for f in (0, 1)]
        assert any(torch.equal(out[i], v) for v in variants)


@pytest.mark.parametrize("rotation,turns", [(0, [0]), (90, [0, 1, 3]), (180, [0, 1, 2, 3])])
def test_quarter_turns_within_rotation(rotation, turns):
    assert quarter_turns(rotation) == turns


def test_rotation_zero_and_no_flip_is_a_plain_crop():
    x = noise(n=2, size=32)
    out = exact_crops(x, 32, rotation=0, flip_prob=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, x)


def test_images_smaller_than_the_crop_are_mirrored_out():
    small = noise(n=2, size=20)
    assert pad_to_size(small, 32, 32)[0].shape[-2:] == (32, 32)
    image, target = augment_pair(small, small.clone(), crop=32, ranges=EXACT.ranges(), ctx=ctx(),
                                 other_is_mask=False, exact=True)
    assert image.shape == (2, 1, 32, 32) and torch.equal(image, target)


def test_input_noise_goes_to_the_image_only():
    x = noise()
    noisy = AugmentConfig(exact=True, scale=(1.0, 1.0), rotation=0, flip_prob=0, noise_prob=1.0, noise=(0.1, 0.1))
    image, target = augment_pair(x, x.clone(), crop=128, ranges=noisy.ranges(), ctx=ctx(), other_is_mask=False,
                                 exact=True)
    assert torch.equal(target, x)
    assert (image - x).std().item() == pytest.approx(0.1, rel=0.05)


def test_settings_exact_cannot_honour_are_refused_naming_the_key():
    with pytest.raises(ValueError, match=r"task\.augment\.scale=\[1,1\]"):
        AugmentConfig(exact=True)
    with pytest.raises(ValueError, match=r"task\.augment\.rotation must be 0"):
        AugmentConfig(exact=True, scale=(1.0, 1.0), rotation=45)
    with pytest.raises(ConfigError, match=r"task\.augment"):
        resolve(["task=segmentation", "task.augment.exact=true"], [])


def test_cli_overrides_reach_the_task_section():
    cfg = resolve(["task=background-removal", "task.augment.exact=true", "task.augment.scale=[1,1]"], [])
    assert cfg.tree["task"]["augment"]["exact"] is True
