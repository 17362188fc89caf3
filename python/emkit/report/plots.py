"""Validation and test curves of several runs overlaid (like the paper's Figs. 6–11)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from emkit.report.runs import RunSummary


def plot_curves(runs: list[RunSummary], labels: dict[Path, str], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    by_objective: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        by_objective[run.objective].append(run)
    for objective, group in by_objective.items():
        metrics = sorted({k for r in group for row in r.epochs.values() for k in row if k.startswith(("val_", "test_"))})
        for metric in metrics:
            fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
            models = sorted({labels[r.path] for r in group})
            colors = {m: plt.cm.tab10(i % 10) for i, m in enumerate(models)}
            seen = set()
            for run in sorted(group, key=lambda r: (labels[r.path], r.init, r.seed)):
                xs = sorted(e for e in run.epochs if metric in run.epochs[e])
                if not xs:
                    continue
                ys = [run.epochs[e][metric] for e in xs]
                key = (labels[run.path], run.init)
                ax.plot(xs, ys, color=colors[labels[run.path]], linestyle="-" if run.init == "P" else "--",
                        alpha=0.85, label=f"{key[0]} {key[1]}" if key not in seen else None)
                seen.add(key)
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.set_title(f"{objective}: {metric} (solid = pretrained, dashed = random)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
            fig.tight_layout()
            path = out / f"curves_{objective}_{metric}.png"
            fig.savefig(path)
            plt.close(fig)
            written.append(path)
    return written
