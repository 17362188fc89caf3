"""HRNet's multi-resolution pieces: parallel branches, their fusion, stage transitions.

Branch ``i`` runs at 1/2^i of the first branch's resolution. A ``HighResolutionModule``
runs every branch through its basic blocks, then *fuses*: each output branch ``i``
receives the sum of all branches, brought to its resolution and width (coarser ones by
1×1 conv + BN + bilinear upsampling, finer ones by a chain of stride-2 3×3 convs), and
a ReLU. A ``Transition`` re-widths the branches between stages and spawns the next,
coarser branch with a stride-2 conv from the coarsest one.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from emkit_builtin.generators.blocks import BasicBlock, conv3x3, conv_bn_relu


def _fuse_path(widths: Sequence[int], src: int, dst: int) -> nn.Module:
    """Map branch ``src`` to branch ``dst``'s width (resolution is matched separately)."""
    if src == dst:
        return nn.Identity()
    if src > dst:  # coarser -> finer: 1×1 conv here, upsampling in forward
        return nn.Sequential(nn.Conv2d(widths[src], widths[dst], 1, bias=False), nn.BatchNorm2d(widths[dst]))
    layers: list[nn.Module] = []
    for step in range(dst - src):  # finer -> coarser: one stride-2 conv per halving
        last = step == dst - src - 1
        cout = widths[dst] if last else widths[src]
        layers += [conv3x3(widths[src], cout, stride=2), nn.BatchNorm2d(cout)]
        if not last:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches of basic blocks followed by all-to-all multi-resolution fusion."""

    def __init__(self, widths: Sequence[int], blocks: int) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.branches = nn.ModuleList(
            nn.Sequential(*(BasicBlock(w, w) for _ in range(blocks))) for w in widths
        )
        n = len(widths)
        self.fuse = nn.ModuleList(
            nn.ModuleList(_fuse_path(widths, src, dst) for src in range(n)) for dst in range(n)
        )

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for dst, paths in enumerate(self.fuse):
            size = xs[dst].shape[-2:]
            total = xs[dst]
            for src, path in enumerate(paths):
                if src == dst:
                    continue
                y = path(xs[src])
                if src > dst:
                    y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
                total = total + y
            out.append(F.relu(total))
        return out


class Transition(nn.Module):
    """Between stages: re-width existing branches, add one coarser branch."""

    def __init__(self, widths_in: Sequence[int], widths_out: Sequence[int]) -> None:
        super().__init__()
        if len(widths_out) != len(widths_in) + 1:
            raise ValueError("a transition adds exactly one branch")
        self.paths = nn.ModuleList(
            nn.Identity() if cin == cout else conv_bn_relu(cin, cout)
            for cin, cout in zip(widths_in, widths_out)
        )
        self.new_branch = conv_bn_relu(widths_in[-1], widths_out[-1], stride=2)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        return [path(x) for path, x in zip(self.paths, xs)] + [self.new_branch(xs[-1])]


class Stage(nn.Module):
    """``modules`` high-resolution modules in a row on the same branches."""

    def __init__(self, widths: Sequence[int], modules: int, blocks: int) -> None:
        super().__init__()
        self.body = nn.ModuleList(HighResolutionModule(widths, blocks) for _ in range(modules))

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        for module in self.body:
            xs = module(xs)
        return xs
