"""Tell the user up front when a run is too short to learn anything.

A downstream run of a few dozen optimiser steps gives flat-grey restorations and
Dice 0 -- expected, but it looks like a bug. The threshold comes from the measured
fine-tuning curves in ``benchmarks/results/reproduce_paper_cpu.md`` (U-Nets, batch 4,
6 steps per epoch, 2 seeds): after 30 steps every model, pretrained or random, is still
worse than the identity on denoising (L1 0.16-0.26 vs 0.090) and random-init
segmentation has Dice 0.00; after 90 steps Dice is 0.81-0.88 and the larger U-Net
beats the identity; after 180 steps all do. Below ~100 steps, then, a run is a smoke
test, not a result.
"""

from __future__ import annotations

from typing import Callable, Optional

#: Optimiser steps below which a run is not expected to learn (see the module docstring).
MIN_LEARNING_STEPS = 100


def short_run_note(total_steps: int, steps_per_epoch: int, epochs: int,
                   minimum: int = MIN_LEARNING_STEPS) -> Optional[str]:
    """One line saying the run is too short to learn, or None when it is long enough."""
    if total_steps >= minimum:
        return None
    return (
        f"note: only {total_steps} optimiser steps ({epochs} epoch(s) x {steps_per_epoch}); models need about "
        f"{minimum} to beat the identity, so expect flat outputs and Dice near 0 -- a smoke test, not a "
        "result (raise train.epochs or data.length)"
    )


def warn_if_short(say: Callable[[str], None], total_steps: int, steps_per_epoch: int, epochs: int) -> None:
    """Call ``say`` with :func:`short_run_note` when the run is too short (once, at the start)."""
    note = short_run_note(total_steps, steps_per_epoch, epochs)
    if note is not None:
        say(note)
