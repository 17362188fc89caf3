"""``mask-folder``: a user's own segmentation pairs, ``root/image/*`` with ``root/mask/*``.

Masks become ``(1, H, W)`` uint8 class indices: ``mask_mode=auto`` reads bool and two-valued
masks (0/1, 0/255) as background/foreground, small integers (< 32) as class ids and soft
float masks in [0, 1] as ``>= 0.5``, and refuses anything else naming the values it found;
``binary`` (``> mask_threshold``) and ``index`` force one reading.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from emkit.config.ranges import ranged
from emkit.data.filedataset import Entry
from emkit.data.paired import MaskOptions, PairedConfig, PairedDataset
from emkit.data.targets import check_kind
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class MaskFolderConfig(PairedConfig):
    #: Sub-folder of root holding the masks.
    mask_dir: str = "mask"
    mask_mode: Literal["auto", "binary", "index"] = "auto"
    mask_threshold: float = ranged(127.0, None, None)


class MaskFolderDataset(PairedDataset):
    """Image/mask pairs from two sibling folders."""

    Config = MaskFolderConfig
    dataset_name = "mask-folder"
    provides = ("mask",)

    def partner_dirs(self) -> list[str]:
        return [self.config.mask_dir]

    def select_target(self, target: str) -> None:
        check_kind(target, self.dataset_name, ("segmentation",))

    def _load(self, entry: Entry) -> Sample:
        raw, image = self._image(entry)
        opts = MaskOptions(self.config.mask_mode, self.config.mask_threshold)
        return self._pack(entry, image, mask=self._mask(entry, entry.extra[0], raw, opts))
