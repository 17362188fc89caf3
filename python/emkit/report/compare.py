"""``emkit compare``: tables shaped like the paper's Tables 2–3 and overlaid curves.

Rows are model × init (P = pretrained, R = random), columns the metric at each
evaluation epoch (``eval_epochs``; the final epoch when none were requested); runs
that differ only in seed are averaged (mean ± std, n). The model label is the generator
name plus the config keys in which runs of that generator differ (e.g.
``unet(blocks=4, rf=424)``).
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from emkit.report.runs import RunSummary, load_run

#: Metric shown first per objective, and whether higher is better.
PRIMARY = {"segmentation": ("dice", True)}
DEFAULT_PRIMARY = ("l1", False)


def model_labels(runs: list[RunSummary]) -> dict[Path, str]:
    by_name: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        by_name[run.generator.get("name", "?")].append(run)
    labels: dict[Path, str] = {}
    for name, group in by_name.items():
        keys = sorted({k for r in group for k in r.generator if k != "name"})
        varying = [k for k in keys if len({repr(r.generator.get(k)) for r in group}) > 1 and k != "out_channels"]
        for run in group:
            extra = ", ".join(f"{k}={run.generator.get(k)}" for k in varying)
            labels[run.path] = f"{name}({extra})" if extra else name
    return labels


def _eval_epochs(run: RunSummary) -> list[int]:
    requested = [int(e) for e in run.config.get("eval_epochs") or []]
    present = [e for e in requested if e in run.epochs]
    return present or ([max(run.epochs)] if run.epochs else [])


def _value(run: RunSummary, epoch: int, metric: str) -> float | None:
    row = run.epochs.get(epoch, {})
    for key in (f"test_{metric}", f"val_{metric}"):
        if key in row:
            return row[key]
    return None


def collect(runs: list[RunSummary]) -> list[dict[str, Any]]:
    """Long-format rows: objective, model, init, metric, epoch, mean, std, n, runs."""
    labels = model_labels(runs)
    cells: dict[tuple, list[tuple[float, RunSummary]]] = defaultdict(list)
    for run in runs:
        metrics = sorted({k.split("_", 1)[1] for row in run.epochs.values() for k in row
                          if k.startswith(("test_", "val_"))})
        for epoch in _eval_epochs(run):
            for metric in metrics:
                value = _value(run, epoch, metric)
                if value is not None:
                    cells[(run.objective, labels[run.path], run.init, metric, epoch)].append((value, run))
    rows = []
    for (objective, model, init, metric, epoch), values in sorted(cells.items()):
        nums = [v for v, _ in values]
        rows.append({
            "objective": objective, "model": model, "init": init, "metric": metric, "epoch": epoch,
            "mean": statistics.fmean(nums), "std": statistics.stdev(nums) if len(nums) > 1 else 0.0,
            "n": len(nums), "runs": ";".join(str(r.path) for _, r in values),
        })
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    out = ["# emkit comparison", "",
           "P = pretrained generator (init from a pretext run), R = random init, "
           "self = pretrained on the task's own training images (init=self). "
           "Cells: mean ± std over seeds (n runs).", ""]
    objectives = sorted({r["objective"] for r in rows})
    for objective in objectives:
        primary, higher = PRIMARY.get(objective, DEFAULT_PRIMARY)
        metrics = sorted({r["metric"] for r in rows if r["objective"] == objective},
                         key=lambda m: (m != primary, m))
        for metric in metrics:
            sel = [r for r in rows if r["objective"] == objective and r["metric"] == metric]
            epochs = sorted({r["epoch"] for r in sel})
            models = sorted({(r["model"], r["init"]) for r in sel})
            arrow = "↑" if (metric == primary and higher) or metric in ("psnr", "ssim", "dice", "iou") else "↓"
            out += [f"## {objective}: {metric} {arrow}", "",
                    "| model | init | " + " | ".join(f"epoch {e}" for e in epochs) + " |",
                    "|---|---|" + "---|" * len(epochs)]
            for model, init in models:
                cells = []
                for e in epochs:
                    hit = [r for r in sel if r["model"] == model and r["init"] == init and r["epoch"] == e]
                    cells.append(f"{hit[0]['mean']:.4f} ± {hit[0]['std']:.4f} ({hit[0]['n']})" if hit else "–")
                out.append(f"| {model} | {init} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def write_report(run_dirs: list[str | Path], out: str | Path) -> Path:
    """Write report.md, report.csv and curves_*.png into ``out``; return the Markdown path."""
    from emkit.report.plots import plot_curves

    runs = [load_run(p) for p in run_dirs]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = collect(runs)
    with open(out / "report.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["objective", "model", "init", "metric", "epoch", "mean", "std", "n", "runs"])
        writer.writeheader()
        writer.writerows(rows)
    (out / "report.md").write_text(markdown(rows))
    plot_curves(runs, model_labels(runs), out)
    return out / "report.md"
