"""The ``DataSource`` contract: a map-style dataset of EM samples for one split."""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Literal, TypedDict

import torch
from torch.utils.data import Dataset

from emkit.interfaces.plugin import PluginBase

Split = Literal["train", "val", "test"]


class Sample(TypedDict, total=False):
    """One item of a ``DataSource``.

    ``image``: ``(C, H, W)`` tensor, uint8 / uint16 (scaled to [0, 1] by the consumer) or
    float32 already normalised; ``target``: a restoration target of the same layout;
    ``mask``: ``(1, H, W)`` uint8 class indices (0 = background). ``source``: a short
    string naming where the sample came from (file or sub-folder), for balanced sampling
    and error messages.
    """

    image: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor
    source: str


class DataSource(PluginBase, Dataset, abc.ABC):
    """A dataset plugin. ``__init__(config, split)`` where ``split`` is train/val/test.

    ``provides`` lists the keys its samples carry beyond ``image`` (``target``,
    ``mask``), so a pretext/task can check it got the data it needs before training.
    ``targets`` names the selectable target kinds (e.g. ``noNoise``) when the dataset
    holds several; tasks choose one through ``select_target``.
    """

    provides: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, split: Split = "train") -> None:
        self.config = config
        self.split = split

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __getitem__(self, index: int) -> Sample: ...

    @property
    def channels(self) -> int:
        """Number of image channels (1 for almost all EM data)."""
        return 1

    def select_target(self, target: str) -> None:
        """Choose which target the samples carry (paired datasets with several)."""
        raise NotImplementedError(f"{type(self).__name__} has no selectable targets")

    def problems(self) -> list[tuple[str, str]]:
        """(file, reason) for every file skipped under ``on_error=skip`` so far."""
        return []
