"""Measure a generator's receptive field empirically, from the network itself.

Question asked: which input pixels can change output pixel ``(r, c)``? For a trained
network a plain gradient under-reports that set: a ReLU with negative input and a
max-pool's losing entries pass no gradient, although other inputs would make them
pass. The probe therefore runs a copy of the network in which every path is active:

  * every convolution weight is positive (``1/fan_in``) and every bias zero;
  * batch norm is an identity in eval mode (mean 0, variance 1, scale 1, shift 0),
    so no statistics couple the pixels of a batch;
  * the input is all ones, so every activation is strictly positive: ReLUs pass
    everything, and no sum can cancel to zero;
  * max-pooling becomes average pooling with the same window. Both depend on exactly
    the same window, but only the average spreads its gradient over all of it.

Then the gradient of output pixel ``(r, c)`` is non-zero exactly on the pixels it
depends on (float64, so long products of small weights do not underflow). The
footprint's extent along the height is measured for ``period`` consecutive output
rows (one batch item per row), because with grid-aligned pooling/upsampling the
extent depends on the row's position modulo the network's stride.

Supported layers: convolutions, batch norm, pooling, upsampling, element-wise
activations and layers without parameters; anything else with weights is refused.
"""

from __future__ import annotations

import copy
import dataclasses
import statistics

import torch
from torch import nn

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclasses.dataclass(frozen=True)
class MeasuredReceptiveField:
    """Extent (pixels) of the input footprint of ``period`` consecutive output rows."""

    extents: tuple[int, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.extents)

    @property
    def min(self) -> int:
        return min(self.extents)

    @property
    def max(self) -> int:
        return max(self.extents)


class ProbeError(RuntimeError):
    """The network contains a layer the probe cannot make path-complete, or the input was too small."""


def positive_copy(model: nn.Module) -> nn.Module:
    """A float64, eval-mode copy of ``model`` in which every path is active (see module doc)."""
    probe = copy.deepcopy(model).to(torch.float64).eval()
    for parent in list(probe.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                avg = nn.AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode)
                setattr(parent, name, avg)
            elif isinstance(child, (nn.MaxPool1d, nn.MaxPool3d, nn.AdaptiveMaxPool2d)):
                raise ProbeError(f"unsupported pooling layer {name}: {type(child).__name__}")
    with torch.no_grad():
        for name, m in probe.named_modules():
            if isinstance(m, _CONVS):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, _NORMS):
                m.running_mean.zero_()
                m.running_var.fill_(1.0 - m.eps)
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
            elif any(True for _ in m.parameters(recurse=False)):
                raise ProbeError(f"cannot probe layer {name or '<root>'} ({type(m).__name__}) with weights")
    return probe


def measure_receptive_field(
    model: nn.Module,
    *,
    period: int,
    in_channels: int | None = None,
    height: int | None = None,
    width: int | None = None,
    max_height: int = 1 << 14,
) -> MeasuredReceptiveField:
    """Measure the footprint extent along the height of ``period`` consecutive output rows.

    ``period`` must be a multiple of the network's stride grid (``size_multiple``) so
    that no internal padding occurs; ``in_channels`` defaults to ``model.in_channels``;
    ``height`` defaults to a guess that is doubled until the footprint no longer
    reaches the image border.
    """
    in_channels = in_channels or int(model.in_channels)
    probe = positive_copy(model)
    width = width or period
    height = height or 8 * period
    while True:
        height = -(-height // period) * period
        try:
            return _measure(probe, period, in_channels, height, width)
        except _TooSmall:
            if height * 2 > max_height:
                raise ProbeError(f"receptive field exceeds {max_height} px; raise max_height") from None
            height *= 2


class _TooSmall(Exception):
    pass


def _measure(probe: nn.Module, period: int, in_channels: int, height: int, width: int) -> MeasuredReceptiveField:
    x = torch.ones(period, in_channels, height, width, dtype=torch.float64, requires_grad=True)
    y = probe(x)
    first = (height // 2) // period * period
    rows = torch.arange(period)
    y[rows, :, first + rows, width // 2].sum().backward()
    assert x.grad is not None
    touched = x.grad.abs().sum(dim=(1, 3)) > 0  # (period, height)
    extents = []
    for b in range(period):
        idx = torch.nonzero(touched[b]).flatten()
        lo, hi = int(idx[0]), int(idx[-1])
        if lo == 0 or hi == height - 1:
            raise _TooSmall
        if len(idx) != hi - lo + 1:
            raise ProbeError(f"footprint of output row {first + b} has holes")
        extents.append(hi - lo + 1)
    return MeasuredReceptiveField(tuple(extents))
