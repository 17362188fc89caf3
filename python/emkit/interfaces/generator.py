"""The ``Generator`` contract: an image-to-image ``nn.Module`` with a replaceable head."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
from torch import nn

from emkit.interfaces.plugin import PluginBase


class Generator(PluginBase, nn.Module, abc.ABC):
    """An image-to-image network pretrained by a pretext and fine-tuned by a task.

    Contract:
      * ``__init__(config)`` builds the network from an instance of ``Config``, which has
        at least ``in_channels`` and ``out_channels`` fields.
      * ``forward(x)`` maps ``(B, in_channels, H, W)`` to ``(B, out_channels, H, W)`` for
        *any* ``H, W`` (pad internally to ``size_multiple`` and crop back). Outputs are
        unbounded (no final activation): tasks apply their own (sigmoid in the loss, ...).
      * ``head`` is the final layer mapping body features to output channels;
        ``replace_head(out_channels)`` swaps it without touching the body, so a
        pretrained restoration model becomes a segmentation model.
      * ``receptive_field`` is the side length in input pixels that can influence one
        output pixel, or ``None`` when it is unbounded / unknown. With pooling the
        footprint depends on the pixel's position modulo the downsampling factor; the
        value is then the mean footprint over one period (what the paper's RF formula
        gives), and ``size_multiple`` (may be a per-instance property) is that factor.
    """

    #: Spatial size the body needs internally (e.g. 2**levels); forward pads to it.
    size_multiple: ClassVar[int] = 1

    def __init__(self, config: Any) -> None:
        nn.Module.__init__(self)
        self.config = config

    @property
    def in_channels(self) -> int:
        return int(self.config.in_channels)

    @property
    def out_channels(self) -> int:
        return int(self.config.out_channels)

    @property
    def receptive_field(self) -> int | None:
        return None

    @property
    def scale_width(self) -> int | None:
        """The channel width that sets this network's size (U-Net ``width``, HRNet's
        branch width), or ``None``: the first convolution's width is used instead.

        Pretexts size their own helper networks from it (pix2pix's discriminator).
        """
        return None

    @property
    @abc.abstractmethod
    def head(self) -> nn.Module:
        """The output layer (replaced by ``replace_head``)."""

    @abc.abstractmethod
    def replace_head(self, out_channels: int) -> None:
        """Replace the output layer with a freshly initialised one with ``out_channels``.

        Must update ``self.config.out_channels`` so a saved config rebuilds the new shape.
        """

    @abc.abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor: ...

    def head_parameter_names(self) -> set[str]:
        """Names (as in ``state_dict``) of the head's parameters and buffers."""
        head_ids = {id(t) for t in list(self.head.parameters()) + list(self.head.buffers())}
        return {
            name
            for name, t in list(self.named_parameters()) + list(self.named_buffers())
            if id(t) in head_ids
        }

    def encoder_modules(self) -> list[nn.Module]:
        """Modules forming the encoder (for ``freeze=encoder``); default: none known."""
        return []
