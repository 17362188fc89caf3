"""``synthetic-stem``: TEMImageNet-like ADF-STEM crystals with every TEMImageNet target.

Samples are uint8 like TEMImageNet's PNGs: ``image`` (noisy observation), ``target``
(the folder chosen by ``target`` / ``select_target``: noNoise, noBackgroundnoNoise,
noNoiseNoBackgroundSuperresolution) and ``mask`` (atom columns, class 1). Serves the
denoise, background-removal, super-resolution and segmentation tasks.
"""

from __future__ import annotations

import dataclasses

from emkit.data.synthetic.base import SyntheticConfig, SyntheticDataset
from emkit.data.targets import TASK_KINDS, TEMIMAGENET_TARGETS, check_kind
from emkit.errors import DataError
from emkit.interfaces.data_source import Sample

FOLDERS = tuple(TEMIMAGENET_TARGETS.values())


@dataclasses.dataclass
class SyntheticSTEMConfig(SyntheticConfig):
    length: int = 2000
    #: Target folder or task kind ("" for none); select_target() overrides it.
    target: str = "noNoise"
    #: Include the atom mask in every sample.
    masks: bool = True


class SyntheticSTEMDataset(SyntheticDataset):
    """Synthetic ADF-STEM with restoration targets and atom masks."""

    Config = SyntheticSTEMConfig
    generator = "stem"
    provides = ("target", "mask")

    def __init__(self, config: SyntheticSTEMConfig, split="train") -> None:
        super().__init__(config, split)
        self._target = self._resolve(config.target) if config.target else ""
        self._masks = config.masks
        self._update_provides()

    @staticmethod
    def _resolve(target: str) -> str:
        folder = TEMIMAGENET_TARGETS.get(target, target)
        if folder not in FOLDERS:
            raise DataError(
                f"synthetic-stem: unknown target {target!r}; use one of {', '.join(FOLDERS)} "
                f"or a task kind ({', '.join(TASK_KINDS)})"
            )
        return folder

    def select_target(self, target: str) -> None:
        if target in TASK_KINDS:
            check_kind(target, "synthetic-stem")
            if target == "segmentation":
                self._target, self._masks = "", True
            else:
                self._target, self._masks = TEMIMAGENET_TARGETS[target], False
        else:
            self._target = self._resolve(target)
        self._cache.clear()
        self._update_provides()

    def _update_provides(self) -> None:
        self.provides = tuple(k for k, on in (("target", bool(self._target)), ("mask", self._masks)) if on)

    def render(self, index: int) -> Sample:
        from emkit.data.synthetic.stem import render_stem

        arrays = render_stem(self.rng(index), self.config.size).as_uint8()
        sample: Sample = {"image": self.tensor(arrays["image"]), "source": f"synthetic-stem/{self.split}/{index}"}
        if self._target:
            sample["target"] = self.tensor(arrays[self._target])
        if self._masks:
            sample["mask"] = self.tensor(arrays["circularMask"] // 255)
        return sample
