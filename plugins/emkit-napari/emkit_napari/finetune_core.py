"""Fine-tune an emkit model on napari layers or a dataset folder, without Qt.

``FinetuneRequest`` is what the widget collects; ``run_finetune`` turns it into a call of
``emkit.train`` -- the public API the CLI uses, so the result is a normal run directory
(config.yaml, metrics.csv, checkpoints, generator.safetensors) that ``emkit predict``,
``emkit eval`` and the predict widget use as any other. Layers go to ``emkit.train`` as
arrays (``images=`` with ``masks=``/``targets=``, cut into ``patch``-sized squares), which
emkit writes as a dataset folder beside the runs. A ``MetricsRelay`` callback forwards
every logged step and every epoch's metrics to the widget (live curves) and returns
``emkit.STOP`` when the user stops the run; the run directory then keeps its last
checkpoint (``emkit run resume=<dir>`` continues it) and ``Cancelled`` says so.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import shlex
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import numpy as np

from emkit import EmkitError
from emkit.api import STOP, Callback, EpochInfo, StartInfo, StepInfo
from emkit_napari.predict_core import Cancelled

#: "foreground": every label > 0 is the object; "classes": label values are class ids.
LabelMode = Literal["foreground", "classes"]
#: Restoration tasks learn from an image target; segmentation from labels.
SEGMENTATION = "segmentation"
#: Sub-folder of the runs folder holding the datasets written from layers.
DATASETS_DIR = "napari-datasets"

#: ``on_metrics(rows, stage, step, total)``: new metrics.csv rows of the stage ("pretrain"
#: for the pretext stage of init=self, else "finetune") at optimisation step ``step``.
MetricsFn = Callable[[list[dict[str, Any]], str, int, int], None]


@dataclasses.dataclass
class FinetuneRequest:
    """One fine-tuning run as the widget describes it."""

    task: str = SEGMENTATION
    #: Layers (image + labels or target), or ``folder``: a mask-folder / paired-folder root.
    image: Optional[np.ndarray] = None
    partner: Optional[np.ndarray] = None
    folder: Optional[str] = None
    names: tuple[str, str] = ("image", "labels")
    label_mode: LabelMode = "foreground"
    #: random | self | a run directory or generator.safetensors.
    init: str = "random"
    generator: str = "unet"
    epochs: int = 5
    #: Side of the patches cut from layers; also the training crop (``task.crop``).
    patch: int = 128
    runs_dir: str = "runs"
    name: str = ""
    device: str = "auto"
    #: Further ``key=value`` overrides, as typed after ``emkit run``.
    extra: str = ""

    def run_name(self) -> str:
        return self.name or f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{self.task}-napari"


def _given(extra: list[str]) -> set[str]:
    return {item.split("=", 1)[0] for item in extra if "=" in item}


def folder_overrides(req: FinetuneRequest) -> list[str]:
    """``data.*`` (+ ``task.crop``) overrides for a dataset folder (mask-folder / paired-folder layout)."""
    root = Path(str(req.folder))
    sub = "mask" if req.task == SEGMENTATION else "target"
    if not (root / "image").is_dir() or not (root / sub).is_dir():
        raise EmkitError(f"{root}: expected a dataset folder with image/ and {sub}/ sub-folders")
    dataset = "mask-folder" if req.task == SEGMENTATION else "paired-folder"
    return [f"data={dataset}", f"data.root={root}", f"task.crop={int(req.patch)}"]


def layer_arrays(req: FinetuneRequest) -> dict[str, Any]:
    """The ``emkit.train`` array arguments for the two layers (shapes checked, naming the layers)."""
    if req.image is None or req.partner is None:
        raise EmkitError("choose an image layer and a labels/target layer, or a dataset folder")
    image, partner = np.asarray(req.image), np.asarray(req.partner)
    planes = [a.reshape(-1, *a.shape[-2:]) if a.ndim >= 2 else a for a in (image, partner)]
    if planes[0].shape != planes[1].shape:
        raise EmkitError(f"layers {req.names[0]!r} {planes[0].shape} and {req.names[1]!r} {planes[1].shape} differ "
                         "in shape; they must cover the same pixels")
    key = "masks" if req.task == SEGMENTATION else "targets"
    return {"images": planes[0], key: planes[1], "patch": int(req.patch), "label_mode": req.label_mode}


def build_overrides(req: FinetuneRequest) -> tuple[list[str], dict[str, Any]]:
    """All overrides of the run (the user's ``extra`` last, so they win) and the array arguments."""
    try:
        extra = shlex.split(req.extra)
    except ValueError as exc:
        raise EmkitError(f"extra settings: {exc}") from None
    given = _given(extra)
    arrays = {} if req.folder else layer_arrays(req)
    data = folder_overrides(req) if req.folder else []
    items = [f"task={req.task}", *(d for d in data if d.split("=", 1)[0] not in given),
             f"train.epochs={int(req.epochs)}", f"train.device={req.device}", "train.log_every=1",
             f"init={req.init}", f"runs_dir={req.runs_dir}", f"name={req.run_name()}"]
    if req.init in ("random", "self") and "generator" not in given:
        items.append(f"generator={req.generator}")
    return [*items, *extra], arrays


def run_finetune(req: FinetuneRequest, on_metrics: Optional[MetricsFn] = None,
                 should_stop: Callable[[], bool] = lambda: False) -> Path:
    """Train per ``req`` through ``emkit.train``; return the run directory (``Cancelled`` when stopped)."""
    import emkit

    overrides, arrays = build_overrides(req)
    relay = MetricsRelay(on_metrics, should_stop)
    run = emkit.train(*overrides, callbacks=[relay], progress=False, **arrays)
    if run is None:
        raise EmkitError("training ran in other processes (launcher=torchrun); run it from the CLI instead")
    if run.stopped:
        raise Cancelled(f"training cancelled at step {relay.step}; {run.path} keeps its last checkpoint "
                        f"(continue with: emkit run resume={run.path})")
    return run.path


class MetricsRelay(Callback):
    """Logged steps and epoch metrics to ``on_metrics`` as metrics rows; ``STOP`` when ``should_stop()``."""

    def __init__(self, on_metrics: Optional[MetricsFn], should_stop: Callable[[], bool]) -> None:
        self.on_metrics, self.should_stop = on_metrics, should_stop
        self.step = self.total = 0

    def on_start(self, info: StartInfo) -> None:
        self.total = info.total_steps

    def _forward(self, row: dict[str, Any], stage: str, step: int, total: int) -> None:
        if self.on_metrics is not None:
            self.on_metrics([row], "pretrain" if stage == "pretext" else "finetune", step, total)

    def on_step(self, info: StepInfo) -> Any:
        self.step = info.step
        if info.losses:
            self._forward({"kind": "step", "epoch": info.epoch, "step": info.step, **info.losses}, info.stage,
                          info.step, info.total_steps)
        return STOP if self.should_stop() else None

    def on_epoch(self, info: EpochInfo) -> None:
        self._forward({"kind": "epoch", "epoch": info.epoch, "step": info.step, **info.metrics}, info.stage,
                      info.step, self.total)


#: metrics.csv columns that are bookkeeping, not curves.
BOOKKEEPING = frozenset({"kind", "epoch", "step", "lr", "images_per_s", "data_time_frac", "ops"})
#: Validation columns (after ``val_``) plotted with the losses; the rest are quality metrics.
LOSS_NAMES = frozenset({"loss", "bce", "ce", "nll", "l1", "l2", "mse", "mae", "heatmap_mse"})


class Curves:
    """metrics.csv rows → the two plots: losses (train + validation) and validation metrics."""

    def __init__(self) -> None:
        self.loss: dict[str, list[tuple[float, float]]] = {}
        self.metrics: dict[str, list[tuple[float, float]]] = {}

    def add(self, rows: list[dict[str, Any]], stage: str = "finetune") -> None:
        prefix = "pretext " if stage == "pretrain" else ""
        for row in rows:
            step = float(row.get("step") or 0)
            for key, value in row.items():
                number = _number(value)
                if key in BOOKKEEPING or number is None:
                    continue
                if row.get("kind") == "step":
                    self.loss.setdefault(f"{prefix}train {key}", []).append((step, number))
                elif key.startswith("val_"):
                    target = self.loss if is_loss(key[4:]) else self.metrics
                    target.setdefault(f"{prefix}{key}", []).append((step, number))


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_loss(name: str) -> bool:
    """A loss-like validation column (``bce``, ``l1``, its ``l1_identity`` baseline, ``*_loss``)."""
    base = name.removesuffix("_identity")
    return base in LOSS_NAMES or base.endswith("_loss")
