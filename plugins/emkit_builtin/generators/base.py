"""What the built-in generators share: pad-to-multiple forward and a 1×1 output head.

A subclass builds its body, calls ``_set_head(features)`` with the width of its last
feature map and implements ``_forward_padded`` for inputs whose sides already divide
by ``size_multiple``. This class adds the rest of the ``Generator`` contract: any input
size, ``head`` / ``replace_head`` and input checking.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from emkit.interfaces import Generator
from emkit.plugin_api import crop, pad_to_multiple
from emkit_builtin.generators.init import pix2pix_init


class PaddedGenerator(Generator):
    """Base class of ``unet`` and ``hrnet`` (not registered itself)."""

    out_conv: nn.Conv2d

    def __init__(self, config: Any) -> None:
        # A private copy: ``replace_head`` edits ``config.out_channels`` and must not
        # reach into a config object the caller (or another model) still uses.
        super().__init__(copy.deepcopy(config))

    @property
    def size_multiple(self) -> int:  # type: ignore[override]  # per instance, not per class
        return self._size_multiple

    def _set_size_multiple(self, multiple: int) -> None:
        self._size_multiple = int(multiple)

    # -- head --------------------------------------------------------------------
    @property
    def head(self) -> nn.Module:
        return self.out_conv

    def _set_head(self, features: int) -> None:
        """Create the 1×1 output convolution from ``features`` to ``out_channels``."""
        self.out_conv = pix2pix_init(nn.Conv2d(features, self.out_channels, 1))

    def replace_head(self, out_channels: int) -> None:
        """Swap in a freshly initialised head with ``out_channels``; the body is untouched."""
        if not isinstance(out_channels, int) or isinstance(out_channels, bool) or out_channels < 1:
            raise ValueError(f"out_channels must be a positive int, got {out_channels!r}")
        old = self.out_conv
        new = pix2pix_init(nn.Conv2d(old.in_channels, out_channels, 1))
        self.out_conv = new.to(device=old.weight.device, dtype=old.weight.dtype)
        self.config.out_channels = out_channels

    # -- forward -----------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects input (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        padded, box = pad_to_multiple(x, self.size_multiple)
        return crop(self._forward_padded(padded), box)

    def _forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        """The network on an input whose sides divide by ``size_multiple``."""
        raise NotImplementedError
