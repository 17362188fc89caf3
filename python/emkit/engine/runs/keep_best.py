"""``train.keep_best=<metric>``: keep the best-by-validation generator of a run.

Small validation sets can stay flat while the model gets worse on the test split, and the
last epoch is not necessarily the best; with ``keep_best`` the generator is exported to
``<run>/best/generator.safetensors`` (+ ``generator.json``) whenever the validation
metric improves, and ``<run>/best/best.json`` records metric, value, epoch and step. The
best weights are a normal exported generator: ``emkit eval RUN --weights best`` evaluates
them, ``init=RUN/best`` fine-tunes from them, and ``emkit sweep`` evaluates them on the
test split after every run that kept one (``eval_test_best.json``, read by compare).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from emkit.storage.atomic import write_text_atomic
from emkit.engine.runs.weights import export_generator
from emkit.errors import ConfigError
from emkit.models import generator_spec

BEST_DIR = "best"
BEST_FILE = "best.json"
#: Metrics where a larger value is better; every other metric (l1, loss, bce, ...) is minimised.
HIGHER_IS_BETTER = ("dice", "iou", "psnr", "ssim", "accuracy", "f1", "precision", "recall")


def metric_column(name: str) -> str:
    """``dice`` and ``val_dice`` both mean the validation column ``val_dice``."""
    return name if name.startswith("val_") else f"val_{name}"


def higher_is_better(column: str) -> bool:
    base = column.split("_", 1)[1] if column.startswith(("val_", "test_")) else column
    return any(base == m or base.startswith(m + "_") for m in HIGHER_IS_BETTER)


def read_best(run_dir: str | Path) -> dict[str, Any] | None:
    path = Path(run_dir) / BEST_DIR / BEST_FILE
    return json.loads(path.read_text()) if path.exists() else None


def update_best(run_dir: str | Path, cfg: Any, row: dict[str, float], *, epoch: int, step: int,
                generator: Any) -> bool:
    """Export ``generator`` to ``run_dir/best`` when ``row``'s validation metric beats the
    best so far (read from best.json, so a resumed run continues the comparison); called
    by the loop after each epoch's validation with ``cfg.train.keep_best``.

    Returns whether it was saved. A metric the validation rows do not have is refused,
    naming the ones they do.
    """
    keep_best = cfg.train.keep_best
    if not keep_best:
        return False
    column = metric_column(keep_best)
    if column not in row:
        available = sorted(k for k in row if k.startswith("val_"))
        raise ConfigError(
            f"train.keep_best={keep_best}: the validation metrics are "
            f"{', '.join(available) or 'none (the validation split is empty)'}; choose one of them"
        )
    value = float(row[column])
    if not math.isfinite(value):
        return False
    higher = higher_is_better(column)
    best = read_best(run_dir)
    if best is not None and best["metric"] == column:
        if (value <= best["value"]) if higher else (value >= best["value"]):
            return False
    out = Path(run_dir) / BEST_DIR
    spec = generator_spec(cfg.plugin_name("generator"), generator)
    export_generator(out, {**spec, "best": {"metric": column, "epoch": epoch}}, generator)
    record = {"metric": column, "value": value, "mode": "max" if higher else "min", "epoch": epoch, "step": step}
    write_text_atomic(out / BEST_FILE, json.dumps(record, indent=1))
    return True
