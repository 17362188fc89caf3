"""Learning-rate factor as a pure function of the step (stateless, so resume is exact)."""

from __future__ import annotations

import math


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
