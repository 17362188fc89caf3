"""Evidence below the mean: per-image metrics, saved predictions, worst/best overlays.

``evaluate_images`` runs a trained objective over a split once and returns the mean
metrics (as the loop's ``evaluate`` does, same per-batch seeds) together with one row per
image (its item key and every metric). ``write_evidence`` writes

* ``per_image.csv`` -- ``index, key, <metric>...`` in split order;
* with ``save_predictions``: ``predictions/<key>.tif`` per test image (segmentation:
  the thresholded label map as uint8; restoration: float32 image in [0, 1]) and
  ``worst_best.png``, the worst and best images (``evidence_grid``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emkit.engine.runtime.sampling import step_seed
from emkit.engine.evaluation.evidence_grid import save_worst_best
from emkit.plugin_api import from_model
from emkit.errors import EmkitError

#: Longest side of the images kept for the grid.
THUMB = 256


def safe_name(key: str) -> str:
    """A file name for an item key (``a/b.h5#3`` -> ``a_b.h5_3``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") or "item"


def _thumb(a: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(max(a.shape) / THUMB)))
    return a[::step, ::step]


def _forward(objective: Any, batch: dict[str, Any], ctx: Any) -> tuple[dict[str, torch.Tensor], Any, Any]:
    """Per-sample metrics, plus (prepared batch, raw prediction) for task objectives."""
    task = getattr(objective, "task", None)
    if task is None:
        return objective.validation_step(batch, ctx), None, None
    prepared = task.prepare_eval_batch(batch, ctx)
    with ctx.autocast():
        prediction = objective.generator(ctx.prepare(prepared["input"])).float()
    return dict(task.metrics(prediction, prepared)), prepared, prediction


def _prediction_image(task: Any, prediction: torch.Tensor) -> np.ndarray:
    """(B, H, W) numpy: label maps (uint8) for mask tasks, [0, 1] float32 images otherwise."""
    labels = getattr(task, "predict_labels", None)
    if labels is not None:
        return labels(prediction)[:, 0].to(torch.uint8).cpu().numpy()
    return from_model(prediction).clamp(0, 1)[:, 0].float().cpu().numpy()


def evaluate_images(objective: Any, loader: Any, ctx: Any, *, salt: int, seed: int, split: str = "test",
                    predictions_dir: Path | None = None) -> tuple[dict[str, float], list[dict[str, Any]], dict]:
    """(mean metrics, per-image rows, thumbnails for the grid) over ``loader``."""
    task = getattr(objective, "task", None)
    if predictions_dir is not None and task is None:
        raise EmkitError("--save-predictions needs a downstream task run (a pretext run has no test predictions)")
    for module in objective.modules().values():
        module.eval()
    rows: list[dict[str, Any]] = []
    thumbs: dict[int, tuple[np.ndarray, ...]] = {}
    with torch.no_grad():
        for b, batch in enumerate(loader):
            batch = {k: (v.to(ctx.device) if torch.is_tensor(v) else v) for k, v in batch.items()}
            ctx.seed = step_seed(seed, 0, b, salt)
            metrics, prepared, prediction = _forward(objective, batch, ctx)
            n = len(next(iter(metrics.values())))
            keys = batch.get("source") or [f"{split}/{len(rows) + i}" for i in range(n)]
            images = None
            if prediction is not None and predictions_dir is not None:
                images = _prediction_image(task, prediction)
                truth = prepared[task.target_key][:, 0].float().cpu().numpy()
                shown = prepared["image"][:, 0].float().clamp(0, 1).cpu().numpy()
            for i in range(n):
                row = {"index": len(rows), "key": str(keys[i])}
                row.update({k: float(v[i]) for k, v in metrics.items()})
                if images is not None:
                    _write_tiff(predictions_dir / f"{safe_name(row['key'])}.tif", images[i])
                    thumbs[row["index"]] = (_thumb(shown[i]), _thumb(images[i]), _thumb(truth[i]))
                rows.append(row)
    for module in objective.modules().values():
        module.train()
    names = [k for k in rows[0] if k not in ("index", "key")] if rows else []
    means = {k: float(np.mean([r[k] for r in rows])) for k in names}
    return means, rows, thumbs


def _write_tiff(path: Path, array: np.ndarray) -> None:
    import tifffile

    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, array)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(rows[0]) if rows else ["index", "key"]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_evidence(objective: Any, loader: Any, ctx: Any, out: Path, *, salt: int, seed: int, split: str,
                   save_predictions: bool) -> dict[str, float]:
    """Evaluate, write ``out/per_image.csv`` (and predictions + grid); return the means."""
    out = Path(out)
    means, rows, thumbs = evaluate_images(objective, loader, ctx, salt=salt, seed=seed, split=split,
                                          predictions_dir=out / "predictions" if save_predictions else None)
    write_csv(out / "per_image.csv", rows)
    if save_predictions:
        task = objective.task
        is_mask = getattr(task, "predict_labels", None) is not None
        save_worst_best(out / "worst_best.png", rows, thumbs, is_mask)
    return means


def chosen_weights(run_dir: Path, weights_from: str) -> tuple[str, Path | None]:
    """(file-name tag, weights folder) for ``emkit eval --weights final|best``.

    ``final`` -> ("", None): the caller's usual choice (generator.safetensors, else the
    latest checkpoint); ``best`` -> ("_best", run/best), refused when the run kept none.
    """
    from emkit.engine.runs.keep_best import BEST_DIR
    from emkit.engine.runs.weights import WEIGHTS

    if weights_from == "final":
        return "", None
    if weights_from == "best":
        folder = Path(run_dir) / BEST_DIR
        if not (folder / WEIGHTS).exists():
            raise EmkitError(f"{run_dir} kept no best weights ({BEST_DIR}/{WEIGHTS}); "
                             "train with train.keep_best=<validation metric>, e.g. train.keep_best=val_dice")
        return "_best", folder
    raise EmkitError(f"--weights must be final or best, got {weights_from!r}")


def evidence_dir(run_dir: str | Path, split: str, weights_from: str = "final") -> Path:
    """Where ``emkit eval`` writes the per-image evidence: ``RUN/eval_<split>[_best]/``."""
    return Path(run_dir) / f"eval_{split}{'_best' if weights_from == 'best' else ''}"
