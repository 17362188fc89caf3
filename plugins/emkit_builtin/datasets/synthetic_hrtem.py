"""``synthetic-hrtem``: Au-like nanoparticle HRTEM with particle masks (segmentation).

``image`` (1, size, size) float32 in [0, 1] (512 px by default, like the Au data) and
``mask`` (1, size, size) uint8 (1 = particle); particle sizes span the 2.2-20 nm regimes
at matching pixel sizes (see ``emkit.data.synthetic.hrtem``). Rendering 512 px costs
tens of ms: use DataLoader workers or ``cache=true``.
"""

from __future__ import annotations

import dataclasses

from emkit.data.synthetic.base import SyntheticConfig, SyntheticDataset
from emkit.data.targets import check_kind
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class SyntheticHRTEMConfig(SyntheticConfig):
    length: int = 500
    val_length: int = 50
    test_length: int = 50
    size: int = 512


class SyntheticHRTEMDataset(SyntheticDataset):
    """Synthetic Au nanoparticle HRTEM for particle segmentation."""

    Config = SyntheticHRTEMConfig
    generator = "hrtem"
    provides = ("mask",)
    min_size = 64

    def select_target(self, target: str) -> None:
        check_kind(target, "synthetic-hrtem", ("segmentation",))

    def render(self, index: int) -> Sample:
        from emkit.data.synthetic.hrtem import render_hrtem

        smp = render_hrtem(self.rng(index), self.config.size)
        return {
            "image": self.tensor(smp.image),
            "mask": self.tensor(smp.mask),
            "source": f"synthetic-hrtem/{self.split}/{index}",
        }
