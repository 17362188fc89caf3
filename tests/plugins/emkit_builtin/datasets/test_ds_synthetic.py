"""Synthetic datasets: contract shapes/dtypes, determinism, targets, masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emkit.errors import DataError, EmkitError


def test_cem_defaults_uint8_256_deterministic(build):
    ds = build("synthetic-cem")
    assert len(ds) == 2000 and len(build("synthetic-cem", split="val")) == 100
    a, b = ds[7], build("synthetic-cem")[7]
    assert a["image"].shape == (1, 256, 256) and a["image"].dtype == torch.uint8
    assert torch.equal(a["image"], b["image"])
    assert not torch.equal(ds[7]["image"], ds[8]["image"])
    assert not torch.equal(ds[7]["image"], build("synthetic-cem", seed=1)[7]["image"])
    assert not torch.equal(ds[0]["image"], build("synthetic-cem", split="val")[0]["image"])
    img = a["image"].float() / 255
    assert 0.2 < float(img.mean()) < 0.8 and float(img.std()) > 0.05
    assert build("synthetic-cem", size=300)[0]["image"].shape == (1, 300, 300)


def test_cem_collates_and_caches(build):
    ds = build("synthetic-cem", length=8, cache=True, size=64)
    first = ds[3]["image"]
    first.zero_()  # editing a returned sample must not edit the cache
    assert ds[3]["image"].sum() > 0
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 1, 64, 64)


def test_cem_mitochondria_masks_leave_the_images_unchanged(build):
    plain = build("synthetic-cem", length=12, size=128)
    seg = build("synthetic-cem", length=12, size=128)
    seg.select_target("segmentation")
    assert plain.provides == () and "mask" not in plain[0]
    assert seg.provides == ("mask",)
    fractions = []
    for i in range(12):
        s = seg[i]
        assert set(s) == {"image", "mask", "source"}
        assert torch.equal(s["image"], plain[i]["image"])  # the pretext images stay identical
        assert s["mask"].dtype == torch.uint8 and s["mask"].shape == (1, 128, 128)
        assert set(s["mask"].unique().tolist()) <= {0, 1}
        fractions.append(float(s["mask"].float().mean()))
    assert 0.01 < float(np.mean(fractions)) < 0.3 and max(fractions) > 0.03
    with pytest.raises(DataError, match="synthetic-cem"):
        seg.select_target("denoise")


def test_cem_mitochondria_are_darker_than_the_cytoplasm():
    from emkit.data.synthetic.cem import render_cem, render_cem_with_mask
    from emkit.data.synthetic.fields import rng_for

    darker = 0
    for i in range(10):
        img, mito = render_cem_with_mask(rng_for(0, "cem", "train", i), 128)
        assert np.array_equal(img, render_cem(rng_for(0, "cem", "train", i), 128))
        inside, outside = img[mito == 1], img[mito == 0]
        if inside.size:
            darker += int(abs(inside.mean() - outside.mean()) > 3)  # polarity may be inverted
    assert darker >= 5


def test_stem_targets_and_masks(build):
    ds = build("synthetic-stem", length=4)
    s = ds[1]
    assert ds.provides == ("target", "mask")
    assert s["image"].dtype == s["target"].dtype == s["mask"].dtype == torch.uint8
    assert s["image"].shape == s["target"].shape == s["mask"].shape == (1, 256, 256)
    mask = s["mask"][0].numpy().astype(bool)
    assert set(np.unique(mask)) == {False, True} and 0.02 < mask.mean() < 0.6
    ds.select_target("background-removal")
    clean = ds[1]["target"][0].numpy().astype(float)
    assert clean[mask].mean() > 2 * clean[~mask].mean()  # atoms are where the mask is
    assert ds.provides == ("target",) and "mask" not in ds[1]
    ds.select_target("super-resolution")
    sr = ds[1]["target"][0].numpy().astype(float)
    assert (sr > 128).mean() < (clean > 128).mean()  # sharper: fewer bright pixels
    ds.select_target("segmentation")
    assert ds.provides == ("mask",) and set(ds[0]) == {"image", "mask", "source"}
    ds.select_target("noNoise")
    assert "target" in ds[0]
    with pytest.raises(DataError):
        ds.select_target("inpainting")


def test_stem_noise_free_target_is_smoother_than_the_image(build):
    s = build("synthetic-stem", length=2, target="denoise")[0]
    img, tgt = s["image"][0].float(), s["target"][0].float()
    rough = lambda t: float((t[:, 1:] - t[:, :-1]).abs().mean())  # noqa: E731
    assert rough(img) > rough(tgt)


def test_hrtem_float_images_and_particle_masks(build):
    ds = build("synthetic-hrtem", length=2, size=128)
    s = ds[0]
    assert s["image"].dtype == torch.float32 and s["image"].shape == (1, 128, 128)
    assert 0 <= float(s["image"].min()) and float(s["image"].max()) <= 1
    m = s["mask"][0].numpy().astype(bool)
    assert 0.005 < m.mean() < 0.6
    img = s["image"][0].numpy()
    assert img[m].mean() < img[~m].mean()  # particles are darker (mass-thickness contrast)
    assert build("synthetic-hrtem").config.size == 512
    with pytest.raises(DataError):
        ds.select_target("denoise")


def test_bad_synthetic_configs(build):
    with pytest.raises(EmkitError, match="size"):
        build("synthetic-cem", size=8)
    with pytest.raises(DataError, match="unknown target"):
        build("synthetic-stem", target="nope")
    with pytest.raises(IndexError):
        build("synthetic-cem", length=3)[3]
