"""Learning rate as a pure function of the step (stateless, so resume is exact).

``lr_factor`` is the schedule (constant / linear / cosine); ``apply_lr`` adds linear
warm-up (``train.warmup``, on by default for downstream runs) and the head-first phase
(``train.head_first_steps``: the body's rate is 0 while a new head trains alone).
"""

from __future__ import annotations

import math
from typing import Any

from emkit.errors import ConfigError


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Multiplier of the base learning rate at optimisation ``step`` (0-based) of ``total``.

    * ``constant``: 1.
    * ``linear``: pix2pix's rule — constant for the first half, then linear decay that
      reaches 1/(decay steps + 1) on the last step (never exactly 0, so no step is wasted).
    * ``cosine``: half-cosine from 1 to 0 over the run.
    """
    if total <= 0 or schedule == "constant":
        return 1.0
    step = min(max(step, 0), total - 1)
    if schedule == "linear":
        keep = total // 2
        if step < keep:
            return 1.0
        decay = total - keep
        return 1.0 - (step - keep + 1) / (decay + 1)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * step / total))
    raise ValueError(f"unknown schedule {schedule!r}")


#: Warm-up fraction of downstream (task) runs when ``train.warmup`` is unset: a fine-tuned
#: pretrained generator otherwise takes full-size Adam steps on a freshly initialised
#: state and first drifts away from its pretrained solution
#: (``benchmarks/results/fair_baseline_cpu.md``).
DOWNSTREAM_WARMUP = 0.05


def warmup_steps(warmup: float | None, total: int, downstream: bool) -> int:
    """Steps of linear warm-up: ``warmup`` x ``total`` (None: 5% downstream, 0 for pretexts)."""
    fraction = (DOWNSTREAM_WARMUP if downstream else 0.0) if warmup is None else warmup
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"Invalid value for 'train.warmup': expected a fraction in [0, 1), got {warmup}")
    return int(round(fraction * total))


def ramp(step: int, steps: int) -> float:
    """Linear warm-up factor: (step + 1) / (steps + 1) during the first ``steps`` steps, then 1."""
    if steps <= 0 or step >= steps:
        return 1.0
    return (max(step, 0) + 1) / (steps + 1)


def group_factor(role: str | None, schedule: str, step: int, total: int, warmup: int, head_first: int) -> float:
    """Learning-rate multiplier of one parameter group at ``step``.

    The body of a fine-tuned generator (``role="body"``) stays at 0 for the first
    ``head_first`` steps (the new head trains alone) and then warms up from scratch; every
    other group warms up from step 0. Both follow ``schedule`` after warm-up.
    """
    base = lr_factor(schedule, step, total)
    if role == "body" and head_first > 0:
        return 0.0 if step < head_first else base * ramp(step - head_first, warmup)
    return base * ramp(step, warmup)


def apply_lr(optimizers: dict[str, Any], train: Any, step: int, total: int, *, downstream: bool) -> float:
    """Set every group's learning rate for ``step`` from ``train`` (schedule, warmup,
    head_first_steps); return the rate of the last head/ungrouped group (for the log).

    Groups remember their configured rate as ``initial_lr``. Optimizer groups tagged with
    ``role`` ("head"/"body") come from the task adapter; ``train.head_first_steps`` needs them.
    """
    warm = warmup_steps(getattr(train, "warmup", None), total, downstream)
    head_first = int(getattr(train, "head_first_steps", 0) or 0)
    groups = [g for opt in optimizers.values() for g in opt.param_groups]
    if head_first and not any(g.get("role") == "body" for g in groups):
        raise ConfigError("train.head_first_steps needs a downstream task whose generator body is trained "
                          "(not a pretext, not freeze=encoder with an empty body)")
    lr = 0.0
    for group in groups:
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = group["initial_lr"] * group_factor(group.get("role"), train.schedule, step, total,
                                                         warm, head_first)
        if group.get("role") != "body":
            lr = group["lr"]
    return lr
