"""Start a downstream run from the task's best constant prediction (``head_init=prior``).

Why: emkit's generators work in 2x−1 space, so a generator whose output is about 0
predicts mid-grey (restoration) or p = 0.5 everywhere (segmentation). Training targets
are rarely like that (synthetic STEM background-removal targets average 0.08; particles
cover ~17 % of HRTEM pixels), and at Adam 2e-4 the head's bias moves only ~2e-4 per
step, so a random-init run spent its first hundreds of steps shifting one offset and
scored worse than returning the input (benchmarks/results/peers_ablation_cpu.md).
CARE avoids this by standardising its targets with training-set statistics; emkit keeps
targets in image units and instead shifts the head's bias once, before the first step,
so that the mean output over a few training items equals ``Task.output_prior`` (the
loss-optimal constant). The weights are unchanged, so a pretrained body keeps what it
learned; only the offset of its output moves.

From random init, a task that gives ``Task.output_spread`` (restoration: the targets'
standard deviation) also gets its head's weights scaled so the untrained output varies
by ``SPREAD_FRACTION`` of the targets' spread: PyTorch's default init makes a random
U-Net's output vary about as much as the signal itself, and unlearning that structure
cost a B2 w8 U-Net on synthetic STEM test L1 0.080 / 0.066 at 90 / 180 steps against
0.063 / 0.054 with the scaled head (3 seeds; benchmarks/results/peers_ablation_cpu.md).

The items are read without augmentation (``prepare_eval_batch``), centre-cropped to at
most ``CROP``² for the forward pass, and the output is measured with the generator in the
mode its training steps use (train mode, frozen norms in eval mode) on a copy, so running
statistics of the real model are untouched. Every process of a DDP run computes the same
shift from the same items.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from emkit.engine.init.norm_stats import frozen_norms

#: Training items used to estimate the prior and the current mean output.
ITEMS = 16
#: Largest side of the crop the generator sees while measuring its mean output.
CROP = 128
#: Spread of a random-init output relative to the targets' (``Task.output_spread``).
SPREAD_FRACTION = 0.1


def _item_indices(n: int, k: int = ITEMS) -> list[int]:
    """``k`` evenly spaced indices of ``n`` items (all when ``n <= k``)."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _centre_crop(x: torch.Tensor, side: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    top, left = (h - min(h, side)) // 2, (w - min(w, side)) // 2
    return x[..., top:top + min(h, side), left:left + min(w, side)]


def _prepared_items(task: Any, train_ds: Any) -> list[dict[str, torch.Tensor]]:
    """Training items as one-item eval batches (no augmentation), on the CPU."""
    out = []
    for i in _item_indices(len(train_ds)):
        sample = train_ds[i]
        batch = {k: v.unsqueeze(0) for k, v in sample.items() if isinstance(v, torch.Tensor)}
        out.append(task.prepare_eval_batch(batch, None))
    return out


def _stack_key(items: list[dict[str, torch.Tensor]], key: str, side: int) -> torch.Tensor:
    return torch.cat([_centre_crop(item[key], side) for item in items])


@torch.no_grad()
def _output_stats(generator: torch.nn.Module, inputs: torch.Tensor, cfg: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of the output of a copy of ``generator`` in
    its training-step mode (train mode, frozen norms in eval mode)."""
    probe = copy.deepcopy(generator).cpu().float()
    probe.train()
    for module in frozen_norms(cfg, probe):
        module.eval()
    out = probe(inputs).float()
    return out.mean((0, 2, 3)), out.std((0, 2, 3))


def _mean_output(generator: torch.nn.Module, inputs: torch.Tensor, cfg: Any) -> torch.Tensor:
    return _output_stats(generator, inputs, cfg)[0]


def head_bias_parameter(generator: Any) -> torch.nn.Parameter | None:
    """The head's bias (one value per output channel), or None when it has none."""
    bias = getattr(getattr(generator, "head", None), "bias", None)
    if isinstance(bias, torch.nn.Parameter) and bias.ndim == 1 and bias.numel() == generator.out_channels:
        return bias
    return None


def _targets(items: list[dict[str, torch.Tensor]], key: str, side: int) -> torch.Tensor:
    """The items' whole targets when they share a size, else their centre crops."""
    if len({tuple(item[key].shape[1:]) for item in items}) == 1:
        return torch.cat([item[key] for item in items])
    return _stack_key(items, key, side)


def _scale_head(generator: Any, task: Any, batch: dict[str, torch.Tensor], cfg: Any) -> str:
    """From random init: head weights scaled so the output spread is SPREAD_FRACTION of the
    targets'. Returns the part of the message that says so ('' when nothing changed)."""
    spread = task.output_spread(batch) if hasattr(task, "output_spread") else None
    weight = getattr(getattr(generator, "head", None), "weight", None)
    if spread is None or cfg.run.init not in (None, "", "random") or not isinstance(weight, torch.nn.Parameter) \
            or weight.shape[0] != spread.numel():
        return ""
    _, std = _output_stats(generator, batch["input"], cfg)
    ratio = (SPREAD_FRACTION * spread.to(std)) / std.clamp_min(1e-8)
    with torch.no_grad():
        weight.mul_(ratio.to(weight).reshape(-1, *([1] * (weight.ndim - 1))))
    return f"; output spread {_fmt(std)} -> {_fmt(SPREAD_FRACTION * spread)} (a tenth of the targets')"


def apply_output_prior(task: Any, generator: Any, train_ds: Any, cfg: Any) -> str | None:
    """Set the head so the untrained output is ``task.output_prior``; returns a message.

    ``head_init``: ``prior`` (bias, and the spread from random init), ``bias`` (only the
    bias), anything else: nothing (returns None); also nothing when the task has no prior. A head without a bias cannot be shifted: the message says so.
    """
    mode = getattr(task.config, "head_init", "keep")
    if mode not in ("prior", "bias") or len(train_ds) == 0:
        return None
    items = _prepared_items(task, train_ds)
    side = min(CROP, *(min(item["input"].shape[-2:]) for item in items))
    batch = {"input": _stack_key(items, "input", side), task.target_key: _targets(items, task.target_key, side)}
    prior = task.output_prior(batch)
    if prior is None:
        return None
    bias = head_bias_parameter(generator)
    if bias is None:
        return (f"warning: task.head_init=prior ignored: the generator's head "
                f"({type(getattr(generator, 'head', None)).__name__}) has no per-channel bias")
    scaled = _scale_head(generator, task, batch, cfg) if mode == "prior" else ""
    before = _mean_output(generator, batch["input"], cfg)
    with torch.no_grad():
        bias.add_(prior.to(bias) - before.to(bias))
    return (f"output head set from {len(items)} training items: mean output {_fmt(before)} -> {_fmt(prior)}"
            f"{scaled} (task.head_init={mode}; 'keep' turns this off)")


def _fmt(values: torch.Tensor) -> str:
    return ", ".join(f"{v:.3g}" for v in values.tolist()[:4])
