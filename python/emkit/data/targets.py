"""Task kinds the engine asks a dataset for, and the TEMImageNet folders that serve them.

The engine calls ``dataset.select_target(kind)`` right after construction with one of
``TASK_KINDS``. TEMImageNet-like datasets (real or synthetic) map the restoration kinds
to their target folders and "segmentation" to their masks.
"""

from __future__ import annotations

from emkit.errors import DataError

TASK_KINDS = ("denoise", "background-removal", "super-resolution", "segmentation")

#: Restoration kind -> TEMImageNet target folder.
TEMIMAGENET_TARGETS: dict[str, str] = {
    "denoise": "noNoise",
    "background-removal": "noBackgroundnoNoise",
    "super-resolution": "noNoiseNoBackgroundSuperresolution",
}

#: The mask folder used for "segmentation" by default.
TEMIMAGENET_MASKS = "circularMask"


def check_kind(kind: str, dataset: str, supported: tuple[str, ...] = TASK_KINDS) -> str:
    """``kind`` if ``dataset`` supports it, else a ``DataError`` listing what it does support."""
    if kind not in supported:
        raise DataError(
            f"{dataset} cannot serve target {kind!r}; it supports: {', '.join(supported)}"
        )
    return kind
