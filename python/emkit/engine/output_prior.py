"""Start a downstream run from the task's best constant prediction (``head_bias=prior``).

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

from emkit.engine.finetune import frozen_norms

#: Training items used to estimate the prior and the current mean output.
ITEMS = 16
#: Largest side of the crop the generator sees while measuring its mean output.
CROP = 128


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
def _mean_output(generator: torch.nn.Module, inputs: torch.Tensor, cfg: Any) -> torch.Tensor:
    """Per-channel mean output of a copy of ``generator`` in its training-step mode."""
    probe = copy.deepcopy(generator).cpu().float()
    probe.train()
    for module in frozen_norms(cfg, probe):
        module.eval()
    return probe(inputs).float().mean((0, 2, 3))


def head_bias_parameter(generator: Any) -> torch.nn.Parameter | None:
    """The head's bias (one value per output channel), or None when it has none."""
    bias = getattr(getattr(generator, "head", None), "bias", None)
    if isinstance(bias, torch.nn.Parameter) and bias.ndim == 1 and bias.numel() == generator.out_channels:
        return bias
    return None


def apply_output_prior(task: Any, generator: Any, train_ds: Any, cfg: Any) -> str | None:
    """Shift the head bias so the mean output is ``task.output_prior``; returns a message.

    Does nothing (returns None) when the task's ``head_bias`` is not ``prior`` or the task
    has no prior. A head without a bias cannot be shifted: the message says so.
    """
    if getattr(task.config, "head_bias", "keep") != "prior" or len(train_ds) == 0:
        return None
    items = _prepared_items(task, train_ds)
    side = min(CROP, *(min(item["input"].shape[-2:]) for item in items))
    target_key = task.target_key
    prior = task.output_prior({"input": _stack_key(items, "input", side),
                               target_key: torch.cat([item[target_key] for item in items])
                               if _same_size(items, target_key) else _stack_key(items, target_key, side)})
    if prior is None:
        return None
    bias = head_bias_parameter(generator)
    if bias is None:
        return (f"warning: task.head_bias=prior ignored: the generator's head "
                f"({type(getattr(generator, 'head', None)).__name__}) has no per-channel bias")
    before = _mean_output(generator, _stack_key(items, "input", side), cfg)
    with torch.no_grad():
        bias.add_((prior.to(bias) - before.to(bias)))
    values = ", ".join(f"{v:.3g}" for v in prior.tolist()[:4])
    return (f"head bias set from {len(items)} training items: mean output {_fmt(before)} -> "
            f"{values} (task.head_bias=prior; 'keep' turns this off)")


def _same_size(items: list[dict[str, torch.Tensor]], key: str) -> bool:
    return len({tuple(item[key].shape[1:]) for item in items}) == 1


def _fmt(values: torch.Tensor) -> str:
    return ", ".join(f"{v:.3g}" for v in values.tolist()[:4])
