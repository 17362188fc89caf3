"""``paired-folder``: a user's own restoration pairs, ``root/image/*`` with ``root/target/*``.

Files pair by relative path without extension, so ``image/a/01.tif`` pairs with
``target/a/01.png``. Input and target are normalised with the same rule (``normalize``);
they must have the same size. Serves any restoration task (denoise, background-removal,
super-resolution: whatever the targets are).
"""

from __future__ import annotations

import dataclasses

from emkit.data.filedataset import Entry
from emkit.data.paired import PairedConfig, PairedDataset
from emkit.data.targets import check_kind
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class PairedFolderConfig(PairedConfig):
    #: Sub-folder of root holding the targets.
    target_dir: str = "target"


class PairedFolderDataset(PairedDataset):
    """Image/target pairs from two sibling folders."""

    Config = PairedFolderConfig
    dataset_name = "paired-folder"
    provides = ("target",)

    def partner_dirs(self) -> list[str]:
        return [self.config.target_dir]

    def select_target(self, target: str) -> None:
        """Accept any restoration kind: the single target folder serves it."""
        check_kind(target, self.dataset_name, ("denoise", "background-removal", "super-resolution"))

    def _load(self, entry: Entry) -> Sample:
        raw, image = self._image(entry)
        return self._pack(entry, image, target=self._target(entry, entry.extra[0], raw))
