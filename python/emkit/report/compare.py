"""``emkit compare``: tables shaped like the paper's Tables 2–3 and overlaid curves.

A cell is one (objective, model, init source, labelled-set size) at one evaluation epoch;
it holds mean ± std, min–max and n over the runs that differ only in seed.

* **init source**: ``R (<scheme> init)`` for random weights (``task.random_init``), or
  ``P (<source>)`` where source is ``init_label=`` or the pretraining run's folder name,
  so two pretraining runs are never averaged into one "P".
* **pretext**: the pretext that made the initial weights (``pix2pix``, ``restore``,
  ``masked``, ...; ``init=self``'s ``pretrain.pretext``), its own column, so the runs of
  ``emkit sweep ... init=self pretrain.pretext=pix2pix,restore,masked`` stay apart.
* **model**: the generator name with its size keys (blocks, width, rf, ...) always shown,
  plus any other key in which runs of that generator differ.
* **size**: ``data.train_limit`` (or the synthetic ``data.length``).
* **epochs**: ``eval_epochs`` (test metrics; validation when a run has no test column),
  plus ``best`` when ``eval_test_best.json`` holds the test metrics of the keep_best weights.

The paired table subtracts, seed by seed, each R run from the P run of the same model,
size and seed (P − R), with the number of seeds where P was better. Baseline rows
(identity, all-background, all-foreground, constant mean; ``report/baselines.py``) are
computed on the same test split as the runs. The ``<metric>_identity`` columns tasks log
(the input's own score, equal for every model) get no table of their own.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from emkit.engine.runs.keep_best import higher_is_better
from emkit.report.runs import RunSummary, is_baseline_column, load_run

#: Metric shown first per objective.
PRIMARY = {"segmentation": "dice"}
DEFAULT_PRIMARY = "l1"
#: Generator config keys that describe its size: always part of the model label.
SIZE_KEYS = ("blocks", "width", "rf", "pools", "dilations", "variant", "stem_width", "widths")
#: Config keys never shown in the model label.
HIDDEN_KEYS = ("name", "in_channels", "out_channels")
BEST = "best"
FIELDS = ["objective", "model", "pretext", "init", "train_items", "metric", "epoch", "mean", "std", "min", "max", "n", "runs"]
PAIR_FIELDS = ["objective", "model", "train_items", "pretext", "pretrained", "random", "metric", "epoch", "mean_diff",
               "std_diff", "n", "p_better", "runs"]


def model_labels(runs: list[RunSummary]) -> dict[Path, str]:
    """``unet(blocks=2, width=8)``: size keys always, other keys where the runs differ."""
    by_name: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        by_name[run.generator.get("name", "?")].append(run)
    labels: dict[Path, str] = {}
    for name, group in by_name.items():
        keys = sorted({k for r in group for k in r.generator if k not in HIDDEN_KEYS})
        varying = {k for k in keys if len({repr(r.generator.get(k)) for r in group}) > 1}
        shown = [k for k in SIZE_KEYS if k in keys] + [k for k in keys if k in varying and k not in SIZE_KEYS]
        for run in group:
            extra = ", ".join(f"{k}={run.generator.get(k)}" for k in shown
                              if run.generator.get(k) is not None or k in varying)
            labels[run.path] = f"{name}({extra})" if extra else name
    return labels


def _epoch_sort(epoch: Any) -> tuple:
    return (isinstance(epoch, str), epoch if isinstance(epoch, int) else 0)


def _eval_epochs(run: RunSummary) -> list[int]:
    requested = [int(e) for e in run.config.get("eval_epochs") or []]
    present = [e for e in requested if e in run.epochs]
    return present or ([max(run.epochs)] if run.epochs else [])


def _best_metrics(run: RunSummary) -> dict[str, float]:
    path = run.path / "eval_test_best.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and k != "samples"}


def run_values(run: RunSummary) -> dict[tuple[str, Any], float]:
    """{(metric, epoch): value}: test metrics at the eval epochs (validation when a run
    logged no test metrics), and the keep_best weights' test metrics as epoch "best"."""
    out: dict[tuple[str, Any], float] = {}
    for epoch in _eval_epochs(run):
        row = run.epochs.get(epoch, {})
        for key, value in row.items():
            prefix, _, metric = key.partition("_")
            if is_baseline_column(key, row):
                continue
            if prefix == "test" or (prefix == "val" and f"test_{metric}" not in row):
                out[(metric, epoch)] = value
    best = _best_metrics(run)
    for metric, value in best.items():
        if not is_baseline_column(metric, best):
            out[(metric, BEST)] = value
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "n": len(values)}


def collect(runs: list[RunSummary]) -> list[dict[str, Any]]:
    """Long-format rows: objective, model, init, train_items, metric, epoch, mean, std, min, max, n, runs."""
    labels = model_labels(runs)
    cells: dict[tuple, list[tuple[float, RunSummary]]] = defaultdict(list)
    for run in runs:
        for (metric, epoch), value in run_values(run).items():
            cells[(run.objective, labels[run.path], run.pretext, run.init_group, run.train_items, metric,
                   epoch)].append((value, run))
    rows = []
    for key in sorted(cells, key=lambda k: (*k[:6], _epoch_sort(k[6]))):
        values = cells[key]
        rows.append({**dict(zip(FIELDS[:7], key)), **_stats([v for v, _ in values]),
                     "runs": ";".join(str(r.path) for _, r in values)})
    return rows


def paired(runs: list[RunSummary]) -> list[dict[str, Any]]:
    """P − R per seed for every (P source, R scheme) of the same objective, model and size."""
    labels = model_labels(runs)
    by_cell: dict[tuple, dict[str, dict[int, RunSummary]]] = defaultdict(lambda: defaultdict(dict))
    for run in runs:
        by_cell[(run.objective, labels[run.path], run.train_items)][(run.pretext, run.init_group)][run.seed] = run
    out = []
    for (objective, model, items), groups in sorted(by_cell.items()):
        for p_key in sorted(g for g in groups if g[1].startswith("P")):
            for r_key in sorted(g for g in groups if g[1].startswith("R")):
                (pretext, p_group), r_group = p_key, r_key[1]
                seeds = sorted(set(groups[p_key]) & set(groups[r_key]))
                if not seeds:
                    continue
                diffs: dict[tuple[str, Any], list[float]] = defaultdict(list)
                for seed in seeds:
                    p_vals, r_vals = run_values(groups[p_key][seed]), run_values(groups[r_key][seed])
                    for key in p_vals.keys() & r_vals.keys():
                        diffs[key].append(p_vals[key] - r_vals[key])
                for (metric, epoch) in sorted(diffs, key=lambda k: (k[0], _epoch_sort(k[1]))):
                    values = diffs[(metric, epoch)]
                    higher = higher_is_better(metric)
                    better = sum(1 for d in values if (d > 0 if higher else d < 0))
                    stats = _stats(values)
                    out.append({"objective": objective, "model": model, "train_items": items, "pretext": pretext,
                                "pretrained": p_group, "random": r_group, "metric": metric, "epoch": epoch,
                                "mean_diff": stats["mean"], "std_diff": stats["std"], "n": stats["n"],
                                "p_better": better, "runs": ";".join(f"seed {s}" for s in seeds)})
    return out


def _cell(row: dict[str, Any]) -> str:
    if row["n"] == 1:
        return f"{row['mean']:.4f} n=1"
    return f"{row['mean']:.4f} ± {row['std']:.4f} [{row['min']:.4f}–{row['max']:.4f}] n={row['n']}"


def _metric_table(sel: list[dict[str, Any]], epochs: list, heads: list[str],
                  baselines: list[dict[str, Any]], metric: str) -> list[str]:
    out = ["| model | pretext | init | train items | " + " | ".join(heads) + " |",
           "|---|---|---|---|" + "---|" * len(epochs)]
    keys = ("model", "pretext", "init", "train_items")
    for group in sorted({tuple(r[k] for k in keys) for r in sel}):
        cells = []
        for e in epochs:
            hit = [r for r in sel if tuple(r[k] for k in keys) == group and r["epoch"] == e]
            cells.append(_cell(hit[0]) if hit else "–")
        out.append("| " + " | ".join(group) + " | " + " | ".join(cells) + " |")
    for base in baselines:
        value = f"{base['metrics'][metric]:.4f}"
        out.append(f"| baseline{base['split_label']} | – | {base['name']} | – | " +
                   " | ".join(value for _ in epochs) + " |")
    return out + [""]


def _paired_table(psel: list[dict[str, Any]], epochs: list, heads: list[str], title: str) -> list[str]:
    out = [title, "", "| model | train items | pretext | P | R | " + " | ".join(heads) + " |",
           "|---|---|---|---|---|" + "---|" * len(epochs)]
    keys = ("model", "train_items", "pretext", "pretrained", "random")
    for group in sorted({tuple(x[k] for k in keys) for x in psel}):
        cells = []
        for e in epochs:
            hit = [x for x in psel if tuple(x[k] for k in keys) == group and x["epoch"] == e]
            cells.append(f"{hit[0]['mean_diff']:+.4f} ± {hit[0]['std_diff']:.4f}, P better "
                         f"{hit[0]['p_better']}/{hit[0]['n']}" if hit else "–")
        out.append("| " + " | ".join(group) + " | " + " | ".join(cells) + " |")
    return out + [""]


def markdown(rows: list[dict[str, Any]], pairs: list[dict[str, Any]] | None = None,
             baselines: list[dict[str, Any]] | None = None, notes: list[str] | None = None) -> str:
    out = ["# emkit comparison", "",
           "P (source) = fine-tuned from that pretraining run (P (self): init=self, pretrained on the task's own "
           "training images); pretext = the pretext that trained it; R (scheme) = random init with that scheme. "
           "Cells: mean ± std [min–max] n=runs over seeds; test split at the eval epochs "
           "(validation where a run has no test metrics; `best` = the keep_best weights on test).", ""]
    out += [f"*{n}*" for n in notes or []] + ([""] if notes else [])
    pairs = pairs or []
    baselines = baselines or []
    for objective in sorted({r["objective"] for r in rows}):
        primary = PRIMARY.get(objective, DEFAULT_PRIMARY)
        metrics = sorted({r["metric"] for r in rows if r["objective"] == objective},
                         key=lambda m: (m != primary, m))
        for metric in metrics:
            sel = [r for r in rows if r["objective"] == objective and r["metric"] == metric]
            epochs = sorted({r["epoch"] for r in sel}, key=_epoch_sort)
            heads = [f"epoch {e}" if isinstance(e, int) else str(e) for e in epochs]
            out += [f"## {objective}: {metric} {'↑' if higher_is_better(metric) else '↓'}", ""]
            out += _metric_table(sel, epochs, heads, [b for b in baselines if b["objective"] == objective
                                                      and metric in b["metrics"]], metric)
            psel = [p for p in pairs if p["objective"] == objective and p["metric"] == metric]
            if psel:
                sign = ">" if higher_is_better(metric) else "<"
                out += _paired_table(psel, epochs, heads, f"### {objective}: {metric}, paired P − R "
                                     f"(same seed; {sign} 0 favours P)")
    return "\n".join(out)


def curve_labels(runs: list[RunSummary]) -> dict[Path, str]:
    """Legend labels for the curves: model, plus the P source, pretext and size where they vary."""
    models = model_labels(runs)
    many_sizes = len({r.train_items for r in runs}) > 1
    many_sources = len({r.init_group for r in runs if r.init == "P"}) > 1
    many_pretexts = len({r.pretext for r in runs if r.init == "P"}) > 1
    labels = {}
    for run in runs:
        label = models[run.path]
        if run.init == "P" and (many_sources or many_pretexts):
            label += f" [{run.init_source}" + (f", {run.pretext}]" if many_pretexts else "]")
        if many_sizes:
            label += f" n={run.train_items}"
        labels[run.path] = label
    return labels


@dataclasses.dataclass
class Comparison:
    """The tables of ``emkit compare`` as data: long-format ``rows`` (one per cell: mean, std,
    min, max, n over seeds), ``pairs`` (paired P − R per seed) and trivial ``baselines``."""

    runs: list[RunSummary]
    rows: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    baselines: list[dict[str, Any]]
    notes: list[str]

    def to_markdown(self) -> str:
        return markdown(self.rows, self.pairs, self.baselines, self.notes)

    def figures(self, out: str | Path) -> list[Path]:
        """The overlaid validation/test curves (``curves_*.png``, labelled) written into ``out``."""
        from emkit.report.plots import plot_curves

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        before = set(out.glob("curves_*.png"))
        plot_curves(self.runs, curve_labels(self.runs), out, self.baselines)
        return sorted(set(out.glob("curves_*.png")) - before) or sorted(out.glob("curves_*.png"))

    def write(self, out: str | Path) -> Path:
        """report.md, report.csv, paired.csv and the curves into ``out``; the Markdown path."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, fields, data in (("report.csv", FIELDS, self.rows), ("paired.csv", PAIR_FIELDS, self.pairs)):
            with open(out / name, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(data)
        (out / "report.md").write_text(self.to_markdown())
        self.figures(out)
        return out / "report.md"


def compare_runs(run_dirs: list[str | Path], *, baselines: bool = True) -> Comparison:
    """The comparison of the runs in ``run_dirs`` (tables, pairs, baselines on the same test split)."""
    runs = [load_run(p) for p in run_dirs]
    base_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if baselines:
        from emkit.report.baselines import compute_baselines

        base_rows, notes = compute_baselines(runs)
    return Comparison(runs, collect(runs), paired(runs), base_rows, notes)


def write_report(run_dirs: list[str | Path], out: str | Path, *, baselines: bool = True) -> Path:
    """Write report.md, report.csv, paired.csv and curves_*.png into ``out``; return the Markdown path."""
    return compare_runs(run_dirs, baselines=baselines).write(out)
