"""Test-time augmentation: the 8 dihedral transforms of a square (4 rotations × flip).

``tta_forward(fn, x)`` runs ``fn`` on every transformed copy of the batch, maps each
result back and averages. For a network that is only approximately rotation/flip
equivariant this averages away orientation-dependent errors (about 8× the compute).
Transforms act on the last two axes; rotating a non-square tile swaps its sides,
which fully convolutional generators accept.

``tta_forward_with_spread(fn, x, spread)`` also returns how much the 8 predictions
disagree (``spread`` maps their stack to planes, e.g. ``OutputHead.spread``), appended
to the mean as extra channels.
"""

from __future__ import annotations

from typing import Callable

import torch

#: Number of dihedral transforms.
COUNT = 8


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """Transform ``k`` (0..7): rotate by ``k % 4`` quarter turns, then flip columns if ``k >= 4``."""
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return torch.flip(y, dims=(-1,)) if k >= 4 else y


def inverse_dihedral(y: torch.Tensor, k: int) -> torch.Tensor:
    """Undo ``dihedral(·, k)``."""
    if k >= 4:
        y = torch.flip(y, dims=(-1,))
    return torch.rot90(y, -(k % 4), dims=(-2, -1))


def tta_forward(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Mean of ``inverse_dihedral(fn(dihedral(x, k)), k)`` over the 8 transforms."""
    total = None
    for k in range(COUNT):
        y = inverse_dihedral(fn(dihedral(x, k)), k)
        total = y if total is None else total + y
    assert total is not None
    return total / COUNT


def tta_forward_with_spread(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                            spread: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``cat([mean, spread(stack)], dim=1)`` over the 8 transforms (keeps all 8 results at once)."""
    stack = torch.stack([inverse_dihedral(fn(dihedral(x, k)), k) for k in range(COUNT)])
    return torch.cat([stack.mean(dim=0), spread(stack)], dim=1)
