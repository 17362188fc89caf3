"""``synthetic-cem``: cellular-EM-like uint8 images generated on the fly (pretraining default).

Membranes, organelles, vesicles and textured cytoplasm at varied contrast and scale
(see ``emkit.data.synthetic.cem``); ``(1, size, size)`` uint8, 256 px by default so the
pix2pix pretext can take random 224/256 crops; a few ms per image on one core.
"""

from __future__ import annotations

import dataclasses

from emkit.data.synthetic.base import SyntheticConfig, SyntheticDataset
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class SyntheticCEMConfig(SyntheticConfig):
    length: int = 2000


class SyntheticCEMDataset(SyntheticDataset):
    """Synthetic cellular EM for self-supervised pretraining."""

    Config = SyntheticCEMConfig
    generator = "cem"
    provides = ()

    def render(self, index: int) -> Sample:
        from emkit.data.synthetic.cem import render_cem

        img = render_cem(self.rng(index), self.config.size)
        return {"image": self.tensor(img), "source": f"synthetic-cem/{self.split}/{index}"}
