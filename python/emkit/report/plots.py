"""Validation curves of several runs overlaid (like the paper's Figs. 6–11).

One figure per (objective, metric): a line per run, coloured by model, solid for
pretrained and dashed for random initialisation. The epoch axis has integer ticks only;
titles are wrapped to the figure's width (never clipped). Baselines are drawn as grey
reference lines, so "better than doing nothing" can be read off at a glance: the rows
``compare`` computes (``{objective, name, split_label, metrics}``: identity, all
background, ...) when given, else the ``<metric>_identity`` column tasks log (the score
of returning the input unchanged), which then gets no figure of its own.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any, Optional

from emkit.report.runs import BASELINE_SUFFIX, RunSummary, is_baseline_column
#: Characters per title line at the default figure width (6 in at 100 dpi, 10-pt font).
TITLE_CHARS = 58


def wrap_title(text: str, width: int = TITLE_CHARS) -> str:
    """``text`` broken into lines of at most ``width`` characters (at spaces)."""
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or text


def baseline_value(group: list[RunSummary], metric: str) -> Optional[float]:
    """Mean of ``<metric>_identity`` over every epoch row of ``group`` (None when absent)."""
    column = metric + BASELINE_SUFFIX
    values = [row[column] for r in group for row in r.epochs.values() if column in row]
    return mean(values) if values else None


def curve_metrics(group: list[RunSummary]) -> list[str]:
    """The ``val_*`` and ``test_*`` columns to plot (test at the eval epochs); baseline
    columns are drawn inside their metric's figure."""
    columns = {k for r in group for row in r.epochs.values() for k in row if k.startswith(("val_", "test_"))}
    return sorted(c for c in columns if not is_baseline_column(c, columns))


def reference_lines(group: list[RunSummary], objective: str, metric: str,
                    baselines: Optional[list[dict[str, Any]]] = None) -> list[tuple[str, float]]:
    """(label, value) of the baselines of ``metric`` (``val_dice`` matches baseline metric ``dice``)."""
    bare = metric.split("_", 1)[1] if metric.startswith(("val_", "test_")) else metric
    rows = [b for b in baselines or [] if b.get("objective") == objective and bare in b.get("metrics", {})]
    if rows:
        return [(f"{b['name']}{b.get('split_label', '')} (test split)", float(b["metrics"][bare])) for b in rows]
    value = baseline_value(group, metric)
    return [] if value is None else [("identity (input unchanged)", value)]


def _draw(ax: Any, group: list[RunSummary], labels: dict[Path, str], metric: str, plt: Any,
          references: list[tuple[str, float]]) -> None:
    models = sorted({labels[r.path] for r in group})
    colors = {m: plt.cm.tab10(i % 10) for i, m in enumerate(models)}
    seen = set()
    for run in sorted(group, key=lambda r: (labels[r.path], r.init, r.seed)):
        xs = sorted(e for e in run.epochs if metric in run.epochs[e])
        if not xs:
            continue
        key = (labels[run.path], run.init)
        ax.plot(xs, [run.epochs[e][metric] for e in xs], color=colors[key[0]],
                linestyle="-" if run.init == "P" else "--", marker="o" if len(xs) < 4 else None,
                alpha=0.85, label=f"{key[0]} {key[1]}" if key not in seen else None)
        seen.add(key)
    styles = (":", "-.", (0, (1, 3)), (0, (5, 5)))
    for i, (label, value) in enumerate(references):
        ax.axhline(value, color="0.4", linestyle=styles[i % len(styles)], linewidth=1.5, label=label)


def curve_figure(group: list[RunSummary], labels: dict[Path, str], objective: str, metric: str,
                 baselines: Optional[list[dict[str, Any]]] = None) -> Any:
    """The matplotlib figure of one (objective, metric): curves, baseline, integer epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    _draw(ax, group, labels, metric, plt, reference_lines(group, objective, metric, baselines))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(wrap_title(f"{objective}: {metric} (solid = pretrained, dashed = random init)"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_curves(runs: list[RunSummary], labels: dict[Path, str], out: Path,
                baselines: Optional[list[dict[str, Any]]] = None) -> list[Path]:
    """Write ``curves_<objective>_<metric>.png`` per objective and metric; return the paths."""
    import matplotlib.pyplot as plt

    written = []
    by_objective: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        by_objective[run.objective].append(run)
    for objective, group in by_objective.items():
        for metric in curve_metrics(group):
            fig = curve_figure(group, labels, objective, metric, baselines)
            path = out / f"curves_{objective}_{metric}.png"
            fig.savefig(path)
            plt.close(fig)
            written.append(path)
    return written
