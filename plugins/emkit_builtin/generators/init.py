"""pix2pix weight initialisation, shared by every built-in generator.

The pix2pix reference code initialises convolutions with N(0, 0.02), batch-norm
scales with N(1, 0.02) and every bias with 0; the GAN pretexts were tuned with it,
so the generators start from the same point.
"""

from __future__ import annotations

from torch import nn

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.InstanceNorm2d)


def pix2pix_init(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialise every conv and norm layer inside ``module`` in place; returns ``module``."""
    for m in module.modules():
        if isinstance(m, _CONVS):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module
