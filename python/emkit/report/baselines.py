"""Trivial predictors on the runs' own test split: the floor any trained model must beat.

For every distinct (task, dataset config without ``train_limit``) among the runs, the
test split is built exactly as the run built it and scored by the task's own ``metrics``:

* restoration (``target`` tasks): ``identity`` (return the input) and ``constant mean``
  (every pixel = the mean training target, over at most ``MEAN_ITEMS`` training items);
* segmentation (``mask`` tasks): ``all background`` and ``all foreground``.

A run whose data or plugins are unavailable here is skipped with a note, never an error:
compare must still work on copied run folders.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from emkit.errors import EmkitError
from emkit.report.runs import RunSummary

#: Training items averaged for the constant-mean predictor.
MEAN_ITEMS = 64
#: Logit magnitude of the all-background / all-foreground predictions.
CERTAIN = 30.0


def _split_key(run: RunSummary) -> str:
    data = {k: v for k, v in (run.config.get("data") or {}).items() if k != "train_limit"}
    task = run.config.get("task") or {}
    return json.dumps({"data": data, "task": task.get("name"), "classes": task.get("classes")}, sort_keys=True)


def _predictions(task: Any, prepared: dict[str, torch.Tensor], mean: float | None) -> dict[str, torch.Tensor]:
    from emkit.plugin_api import to_model

    image = prepared["image"].float()
    shape = (image.shape[0], task.out_channels, *image.shape[-2:])
    if task.target_key == "mask":
        background = torch.full(shape, -CERTAIN)
        foreground = torch.full(shape, -CERTAIN)
        if task.out_channels == 1:
            foreground.fill_(CERTAIN)
        else:
            background[:, 0], foreground[:, 1] = CERTAIN, CERTAIN
        return {"all background": background, "all foreground": foreground}
    out = {"identity": to_model(image.clamp(0, 1)).expand(shape)}
    if mean is not None:
        out["constant mean"] = to_model(torch.full(shape, mean))
    return out


def _mean_target(task: Any, train: Any) -> float | None:
    from emkit.plugin_api import to_unit

    values = []
    for i in range(min(len(train), MEAN_ITEMS)):
        values.append(float(to_unit(train[i][task.target_key].unsqueeze(0)).float().mean()))
    return sum(values) / len(values) if values else None


def baseline_metrics(run: RunSummary) -> list[dict[str, Any]]:
    """The baseline rows of ``run``'s test split: [{name, metrics}]."""
    from torch.utils.data import DataLoader

    from emkit import registry
    from emkit.config import resolve
    from emkit.plugin_api import StepContext
    from emkit.engine.runtime.devices import autocast_factory
    from emkit.engine.loop.run_datasets import run_dataset

    cfg = resolve([], [run.path / "config.yaml"])
    if cfg.plugin_name("task") is None:
        return []
    task = registry.load("task", cfg.plugin_name("task"))(cfg.plugin_config("task"))
    test = run_dataset(cfg, "test", task.dataset_target)
    if not len(test):
        return []
    mean = _mean_target(task, run_dataset(cfg, "train", task.dataset_target)) if task.target_key != "mask" else None
    ctx = StepContext(device=torch.device("cpu"), autocast=autocast_factory(torch.device("cpu"), "fp32"))
    sums: dict[str, dict[str, float]] = {}
    count = 0
    with torch.no_grad():
        for batch in DataLoader(test, batch_size=8):
            prepared = task.prepare_eval_batch(batch, ctx)
            for name, prediction in _predictions(task, prepared, mean).items():
                for metric, values in task.metrics(prediction, prepared).items():
                    sums.setdefault(name, {})[metric] = sums.get(name, {}).get(metric, 0.0) + float(values.sum())
            count += prepared["image"].shape[0]
    return [{"name": name, "metrics": {k: v / count for k, v in m.items()}} for name, m in sums.items()]


def compute_baselines(runs: list[RunSummary]) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows {objective, name, split_label, metrics}, notes about runs that were skipped)."""
    by_split: dict[str, RunSummary] = {}
    for run in runs:
        if run.objective != "?" and (run.config.get("task") or {}).get("name"):
            by_split.setdefault(_split_key(run), run)
    counts: dict[str, int] = {}
    for run in by_split.values():
        counts[run.objective] = counts.get(run.objective, 0) + 1
    numbered: dict[str, int] = {}
    rows, notes = [], []
    for run in by_split.values():
        k = numbered[run.objective] = numbered.get(run.objective, 0) + 1
        label = "" if counts[run.objective] == 1 else f" (test split {k}: {run.path.name})"
        try:
            found = baseline_metrics(run)
        except (EmkitError, OSError, ValueError, KeyError) as exc:
            notes.append(f"baselines for {run.path} unavailable: {str(exc).splitlines()[0]}")
            continue
        rows += [{"objective": run.objective, "split_label": label, **item} for item in found]
    notes += [f"{objective}: the runs use {n} different test splits; baseline rows name a run of each"
              for objective, n in counts.items() if n > 1]
    return rows, notes
