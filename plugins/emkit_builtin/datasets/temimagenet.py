"""``temimagenet``: TEMImageNet's paired 256x256 8-bit PNG folders.

Layout (files paired by name across folders)::

    root/image/0001.png                                  noisy ADF-STEM input
    root/noNoise/0001.png                                -> denoise
    root/noBackgroundnoNoise/0001.png                    -> background-removal
    root/noNoiseNoBackgroundSuperresolution/0001.png     -> super-resolution
    root/circularMask/0001.png  (gaussianMask/, ...)     -> segmentation masks

The task picks the target through ``select_target`` (or ``data.target`` names a folder
or a kind directly), which re-pairs the inputs with exactly the folders that task needs:
a denoising run never opens the masks, and a copy holding only ``image/`` and
``noNoise/`` works without naming a mask folder (default folders that are absent are
simply not served until a task asks for them). Images and targets stay uint8 under the default ``normalize=auto``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from emkit.config.ranges import ranged
from emkit.data.filedataset import Entry, EntryTable
from emkit.data.paired import MaskOptions, PairedConfig, PairedDataset
from emkit.data.targets import TASK_KINDS, TEMIMAGENET_MASKS, TEMIMAGENET_TARGETS, check_kind
from emkit.interfaces.data_source import Sample


@dataclasses.dataclass
class TEMImageNetConfig(PairedConfig):
    #: Target folder, or a task kind (denoise, background-removal, super-resolution);
    #: "" for none. select_target() overrides it.
    target: str = "noNoise"
    #: Mask folder ("" for none): circularMask, gaussianMask, smallcircularMask, ...
    mask_dir: str = TEMIMAGENET_MASKS
    #: Masks: pixel > threshold is an atom (binary), or "index"/"auto" (see mask-folder).
    mask_mode: Literal["auto", "binary", "index"] = "binary"
    mask_threshold: float = ranged(127.0, None, None)


class TEMImageNetDataset(PairedDataset):
    """TEMImageNet (or a dataset in its layout) for restoration and atom segmentation."""

    Config = TEMImageNetConfig
    dataset_name = "temimagenet"
    provides = ("target", "mask")

    def __init__(self, config: TEMImageNetConfig, split="train") -> None:
        self._target_dir = self._default_if_present(config, "target", TEMIMAGENET_TARGETS.get(config.target, config.target))
        self._mask_dir = self._default_if_present(config, "mask_dir", config.mask_dir)
        super().__init__(config, split)
        self._update_provides()

    @staticmethod
    def _default_if_present(config: TEMImageNetConfig, field: str, folder: str) -> str:
        """``folder``, or "" when it is the field's *default* and absent under root: a copy
        holding only image/ and noNoise/ must work for denoising without naming a mask
        folder. A folder the user chose, or one a task asks for (``select_target``), must exist."""
        default = next(f.default for f in dataclasses.fields(config) if f.name == field)
        default = TEMIMAGENET_TARGETS.get(default, default)
        if folder and folder == default and config.root and not (Path(config.root).expanduser() / folder).is_dir():
            return ""
        return folder

    def partner_dirs(self) -> list[str]:
        return [d for d in (self._target_dir, self._mask_dir) if d]

    def select_target(self, target: str) -> None:
        """Serve ``target`` (a task kind or a folder name); re-pairs with that folder."""
        if target in TEMIMAGENET_TARGETS or target in TASK_KINDS:
            kind = check_kind(target, self.dataset_name)
            if kind == "segmentation":
                self._target_dir, self._mask_dir = "", self.config.mask_dir or TEMIMAGENET_MASKS
            else:
                self._target_dir, self._mask_dir = TEMIMAGENET_TARGETS[kind], ""
        else:
            self._target_dir = target
        keep = {e.key for e in self._entries}
        entries = [e for e in self._scan() if e.key in keep]
        self._entries = EntryTable(entries)
        self._bad.clear()
        self._cache.clear()
        self._update_provides()

    def _update_provides(self) -> None:
        self.provides = tuple(k for k, d in (("target", self._target_dir), ("mask", self._mask_dir)) if d)

    def _load(self, entry: Entry) -> Sample:
        raw, image = self._image(entry)
        extra = list(entry.extra)
        target = mask = None
        if self._target_dir:
            target = self._target(entry, extra.pop(0), raw)
        if self._mask_dir:
            opts = MaskOptions(self.config.mask_mode, self.config.mask_threshold)
            mask = self._mask(entry, extra.pop(0), raw, opts)
        return self._pack(entry, image, target, mask)
