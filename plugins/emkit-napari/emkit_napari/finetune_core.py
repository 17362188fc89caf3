"""Fine-tune an emkit model on napari layers or a dataset folder, without Qt.

``FinetuneRequest`` is what the widget collects; ``run_finetune`` turns it into the
``key=value`` overrides of ``emkit run`` and trains through ``emkit.engine.launch.start`` --
the same path as the CLI, so the result is a normal run directory (config.yaml,
metrics.csv, checkpoints, generator.safetensors) that ``emkit predict``, ``emkit eval``
and the predict widget use as any other. Layers are first written as a dataset folder
(``layer_dataset``) beside the runs. A ``TrainCallback`` forwards every new metrics row
to the widget (live curves) and raises ``Cancelled`` when the user stops the run; the run
directory then keeps its last checkpoint (``emkit run resume=<dir>`` continues it).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import shlex
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from emkit.engine.loop.callbacks import TrainCallback
from emkit.errors import EmkitError
from emkit_napari.layer_dataset import LabelMode, write_layer_dataset
from emkit_napari.predict_core import Cancelled

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


def data_overrides(req: FinetuneRequest, name: str) -> tuple[list[str], dict[str, Any]]:
    """``data.*`` (+ ``task.crop``/``task.classes``) overrides for the layers or the folder."""
    if req.folder:
        root = Path(req.folder)
        sub = "mask" if req.task == SEGMENTATION else "target"
        if not (root / "image").is_dir() or not (root / sub).is_dir():
            raise EmkitError(f"{root}: expected a dataset folder with image/ and {sub}/ sub-folders")
        dataset = "mask-folder" if req.task == SEGMENTATION else "paired-folder"
        return [f"data={dataset}", f"data.root={root}", f"task.crop={int(req.patch)}"], {"folder": str(root)}
    if req.image is None or req.partner is None:
        raise EmkitError("choose an image layer and a labels/target layer, or a dataset folder")
    kind = "mask" if req.task == SEGMENTATION else "target"
    written = write_layer_dataset(Path(req.runs_dir) / DATASETS_DIR / name, req.image, req.partner, kind,
                                  patch=req.patch, label_mode=req.label_mode, names=req.names)
    items = [f"data={written.dataset}", f"data.root={written.root}",
             f"data.split_files={written.root / 'splits'}", f"task.crop={written.patch}"]
    if kind == "mask":
        items.append("data.mask_mode=index")
        items.append(f"task.classes={written.classes}")
    return items, dataclasses.asdict(written)


def build_overrides(req: FinetuneRequest) -> tuple[list[str], dict[str, Any]]:
    """All overrides of the run (the user's ``extra`` last, so they win) and what was written."""
    try:
        extra = shlex.split(req.extra)
    except ValueError as exc:
        raise EmkitError(f"extra settings: {exc}") from None
    given = _given(extra)
    name = req.run_name()
    data, written = data_overrides(req, name)
    items = [f"task={req.task}", *(d for d in data if d.split("=", 1)[0] not in given),
             f"train.epochs={int(req.epochs)}", f"train.device={req.device}", "train.log_every=1",
             f"init={req.init}", f"runs_dir={req.runs_dir}", f"name={name}"]
    if req.init in ("random", "self") and "generator" not in given:
        items.append(f"generator={req.generator}")
    return [*items, *extra], written


def run_finetune(req: FinetuneRequest, on_metrics: Optional[MetricsFn] = None,
                 should_stop: Callable[[], bool] = lambda: False) -> Path:
    """Train per ``req``; return the run directory (``Cancelled`` when stopped)."""
    from emkit.cli.run_cmd import check_option_style
    from emkit.engine.launch.start import launch

    overrides, _ = build_overrides(req)
    check_option_style(overrides)
    out = launch(overrides, [], callbacks=[MetricsRelay(on_metrics, should_stop)], show_progress=False)
    if out is None:
        raise EmkitError("training ran in other processes (launcher=torchrun); run it from the CLI instead")
    return Path(out)


class MetricsRelay(TrainCallback):
    """Train callback: new metrics rows to ``on_metrics``; ``Cancelled`` when ``should_stop()``."""

    def __init__(self, on_metrics: Optional[MetricsFn], should_stop: Callable[[], bool]) -> None:
        self.on_metrics, self.should_stop = on_metrics, should_stop
        self.seen: dict[str, int] = {}

    def _forward(self, run: Any) -> None:
        if self.on_metrics is None or run.metrics is None:
            return
        stage = "pretrain" if run.out.name == "pretrain" else "finetune"
        rows = run.metrics.rows[self.seen.get(stage, 0):]
        self.seen[stage] = len(run.metrics.rows)
        self.on_metrics([dict(r) for r in rows], stage, run.step, run.total_steps)

    def on_step_end(self, run: Any) -> None:
        self._forward(run)
        if self.should_stop():
            raise Cancelled(f"training cancelled at step {run.step}; {run.out} keeps its last checkpoint "
                            f"(continue with: emkit run resume={run.out})")

    def on_train_end(self, run: Any) -> None:
        self._forward(run)


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
