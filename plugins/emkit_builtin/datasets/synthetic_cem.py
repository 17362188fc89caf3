"""``synthetic-cem``: cellular-EM-like uint8 images generated on the fly (pretraining default).

Membranes, organelles, vesicles and textured cytoplasm at varied contrast and scale
(see ``emkit.data.synthetic.cem``); ``(1, size, size)`` uint8, 256 px by default so the
pix2pix pretext can take random 224/256 crops; a few ms per image on one core.

For pretraining the samples carry the image only. ``select_target("segmentation")``
(what ``task=segmentation`` asks for) adds ``mask``: the mitochondria, uint8 1 inside an
outer membrane -- a cellular downstream task whose images are exactly the pretraining
images of the same seed and split.
"""

from __future__ import annotations

import dataclasses

from emkit.data.synthetic.base import SyntheticConfig, SyntheticDataset
from emkit.data.targets import check_kind
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class SyntheticCEMConfig(SyntheticConfig):
    length: int = 2000


class SyntheticCEMDataset(SyntheticDataset):
    """Synthetic cellular EM for self-supervised pretraining and mitochondria segmentation."""

    Config = SyntheticCEMConfig
    generator = "cem"
    provides = ()

    def select_target(self, target: str) -> None:
        check_kind(target, "synthetic-cem", ("segmentation",))
        self.provides = ("mask",)
        self._cache.clear()

    def render(self, index: int) -> Sample:
        from emkit.data.synthetic.cem import render_cem_with_mask

        img, mito = render_cem_with_mask(self.rng(index), self.config.size)
        sample: Sample = {"image": self.tensor(img), "source": f"synthetic-cem/{self.split}/{index}"}
        if "mask" in self.provides:
            sample["mask"] = self.tensor(mito)
        return sample
