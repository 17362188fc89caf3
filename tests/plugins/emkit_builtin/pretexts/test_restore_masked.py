"""``restore`` (pix2pix without the GAN) and ``masked`` (masked-image modelling) pretexts."""

from __future__ import annotations

import pytest
import torch

from emkit.config import resolve
from emkit.engine.loop.objective_setup import build_objective, prepare_objective
from emkit.testing.fixtures import one_thread  # noqa: F401  (autouse: one thread)
from emkit_builtin.pretexts.degraded_pairs import DegradationPretext
from emkit_builtin.pretexts.masked import patch_mask
from emkit_builtin.pretexts.pix2pix import Pix2Pix

SMALL = ["generator=unet", "generator.blocks=2", "generator.width=4", "pretext.crop=32", "train.device=cpu"]


def _objective(pretext: str, *overrides: str):
    cfg = resolve([f"pretext={pretext}", "data=synthetic-cem", *SMALL, *overrides])
    objective = build_objective(cfg)
    prepared = prepare_objective(objective, torch.device("cpu"))
    prepared.ctx.seed = 7
    return objective, prepared.ctx


def _batch(n: int = 2) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {"image": (torch.rand(n, 1, 40, 40, generator=gen) * 255).to(torch.uint8)}


def test_every_builtin_pretext_shares_the_pair_code():
    from emkit_builtin.pretexts.masked import Masked
    from emkit_builtin.pretexts.restore import Restore

    for cls in (Pix2Pix, Restore, Masked):
        assert issubclass(cls, DegradationPretext)
        assert "make_pairs" not in vars(cls) and "validation_step" not in vars(cls)


def test_restore_has_no_discriminator_and_its_step_trains_the_generator():
    objective, ctx = _objective("restore")
    assert set(objective.modules()) == {"generator"}
    before = [p.detach().clone() for p in objective.generator.parameters()]
    losses = objective.training_step(_batch(), ctx)
    assert set(losses) == {"loss_l1"} and losses["loss_l1"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, objective.generator.parameters()))
    both, ctx = _objective("restore", "pretext.loss=l1+l2")
    assert set(both.training_step(_batch(), ctx)) == {"loss_l1", "loss_l2"}


def test_restore_and_pix2pix_see_the_same_pairs():
    """Same seed, same images: the pretexts differ in their loss only, not in their data."""
    p2p, ctx = _objective("pix2pix")
    restore, _ = _objective("restore")
    a = p2p.corrupt(_batch(), ctx)
    b = restore.corrupt(_batch(), ctx)
    assert torch.equal(a["clean"], b["clean"]) and torch.equal(a["input"], b["input"])
    metrics = restore.validation_step(_batch(), ctx)
    assert set(metrics) == {"l1", "l1_identity"} and metrics["l1"].shape == (2,)


def test_patch_mask_hides_the_exact_share_in_whole_cells():
    gen = torch.Generator().manual_seed(1)
    mask = patch_mask(3, 30, 8, 0.5, gen, torch.device("cpu"))
    assert mask.shape == (3, 1, 30, 30)
    cells = mask[:, 0, ::8, ::8]  # a 4×4 grid of 8-px cells, the last ones cut to 6 px
    assert (cells.flatten(1).sum(1) == 8).all()
    for b in range(3):
        for i in range(4):
            for j in range(4):
                block = mask[b, 0, 8 * i:8 * i + 8, 8 * j:8 * j + 8]
                assert block.min() == block.max()  # a cell is hidden whole or not at all
    assert not torch.equal(mask[0], mask[1])


def test_masked_input_keeps_visible_pixels_and_fills_hidden_ones():
    objective, ctx = _objective("masked", "pretext.patch=4", "pretext.ratio=0.25")
    with torch.no_grad():
        objective.fill.value.fill_(0.3)
    pair = objective.corrupt(_batch(), ctx)
    hidden = pair["weight"].bool()
    assert hidden.float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(pair["input"][~hidden], pair["clean"][~hidden])  # no degradation by default
    assert torch.allclose(pair["input"][hidden], torch.full_like(pair["input"][hidden], 0.3))


def test_noise_fill_matches_the_visible_statistics_and_degrade_input_composes():
    objective, ctx = _objective("masked", "pretext.fill=noise", "pretext.degrade_input=true",
                                "pretext.degrade.noise_prob=1", "pretext.degrade.noise=[0.1,0.1]")
    assert "fill" not in objective.modules()
    pair = objective.corrupt(_batch(4), ctx)
    hidden = pair["weight"].bool()
    visible, filled = pair["input"][~hidden], pair["input"][hidden]
    assert not torch.equal(visible, pair["clean"][~hidden])  # the visible pixels are degraded
    assert filled.std().item() == pytest.approx(visible.std().item(), rel=0.3)
    assert filled.mean().item() == pytest.approx(visible.mean().item(), abs=0.15)


def test_masked_loss_sees_only_hidden_pixels_and_trains_the_fill_value():
    objective, ctx = _objective("masked")
    seen = {}
    gen = objective.generator
    def keep_output_grad(module, inputs, out):
        out.register_hook(lambda g: seen.setdefault("g", g))

    handle = gen.register_forward_hook(keep_output_grad)
    try:
        losses = objective.training_step(_batch(), ctx)
    finally:
        handle.remove()
    pair = objective.corrupt(_batch(), ctx)
    grad = seen["g"]
    assert set(losses) == {"loss_hidden_l1"}
    assert (grad[~pair["weight"].bool()] == 0).all() and (grad[pair["weight"].bool()] != 0).any()
    assert objective.fill.value.abs().item() > 0  # the mask value moved from its initial 0
    assert any(p is objective.fill.value for g in objective.optimizer.param_groups for p in g["params"])


def test_visible_weight_adds_the_visible_loss():
    objective, ctx = _objective("masked", "pretext.visible_weight=0.5")
    assert set(objective.training_step(_batch(), ctx)) == {"loss_hidden_l1", "loss_visible_l1"}


def test_bad_masked_options_are_refused_by_name():
    from emkit.errors import ConfigError

    for bad in ("pretext.ratio=1.0", "pretext.ratio=0", "pretext.patch=0", "pretext.fill=zeros"):
        with pytest.raises(ConfigError, match=bad.split("=")[0].split(".")[1]):
            resolve(["pretext=masked", "data=synthetic-cem", *SMALL, bad])


def test_pretext_random_init_chooses_the_generators_starting_weights():
    """By default a pretext starts from PyTorch's per-layer init; ``pretext.random_init=pix2pix`` from N(0, 0.02)."""
    def conv_std(objective):
        return objective.generator.encoder[0].conv1.weight.std().item()

    torch.manual_seed(0)
    # 3×3 conv of one input channel: Kaiming-uniform(a=√5) = U(±1/3), std 1/√27
    assert conv_std(_objective("restore")[0]) == pytest.approx(27 ** -0.5, rel=0.3)
    assert conv_std(_objective("restore", "pretext.random_init=pix2pix")[0]) == pytest.approx(0.02, rel=0.3)
