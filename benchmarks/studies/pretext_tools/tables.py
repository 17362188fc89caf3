"""The pretext study's tables: test metric per arm after 30 / 90 / 180 steps and with the
keep_best weights (mean ± std (n) over seeds), the trivial baselines, and the paired
difference to the reference arm per seed (P − R, with the seeds where P was better)."""

from __future__ import annotations

import statistics
from pathlib import Path

from benchmarks.studies.pretext_tools.arms import Arm, Section
from benchmarks.studies.pretext_tools.runs import the_run
from benchmarks.studies.transfer_study import TASKS, baselines

BEST = "best"


def arm_values(out: Path, task: str, arm: str, seeds: int) -> dict[int, dict]:
    """{seed: {epoch | "best": value}} of the task's test metric, for the seeds that have it."""
    from emkit.report.compare import run_values
    from emkit.report.runs import load_run

    metric = TASKS[task][3].split("_", 1)[1]
    found = {}
    for seed in range(seeds):
        run = the_run(out, task, arm, seed)
        if run is None:
            continue
        values = {epoch: v for (m, epoch), v in run_values(load_run(run)).items() if m == metric}
        if values:
            found[seed] = values
    return found


def cell(values: list[float]) -> str:
    if not values:
        return "–"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f} ({len(values)})"


def paired_cell(p: dict[int, dict], r: dict[int, dict], epoch, higher: bool) -> str:
    seeds = [s for s in p if s in r and epoch in p[s] and epoch in r[s]]
    if not seeds:
        return "–"
    diffs = [p[s][epoch] - r[s][epoch] for s in seeds]
    wins = sum(1 for d in diffs if (d > 0 if higher else d < 0))
    sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    return f"{statistics.fmean(diffs):+.3f} ± {sd:.3f}, {wins}/{len(diffs)}"


def task_table(out: Path, task: str, arms: list[Arm], columns: list, seeds: int, steps_per_epoch: int,
               contrasts: tuple[tuple[str, str], ...] = ()) -> list[str]:
    _, dataset, kind, metric, arrow, title = TASKS[task]
    higher = arrow == "↑"
    heads = [f"{e * steps_per_epoch} steps" if e != BEST else "keep_best" for e in columns]
    values = {a.key: arm_values(out, task, a.key, seeds) for a in arms}
    lines = [f"#### {title}: {metric} {arrow}", "", "| arm | " + " | ".join(heads) + " |",
             "|---|" + "---|" * len(columns)]
    for arm in arms:
        got = values[arm.key]
        lines.append(f"| {arm.label} | " + " | ".join(cell([v[e] for v in got.values() if e in v]) for e in columns)
                     + " |")
    for name, value in baselines(dataset, kind):
        lines.append(f"| *baseline: {name}* | " + " | ".join(f"{value:.3f}" for _ in columns) + " |")
    paired = [(a.key, a.reference) for a in arms if a.init != "random" and a.reference in values]
    paired += [pair for pair in contrasts if pair[0] in values and pair[1] in values]
    if paired:
        lines += ["", f"Paired differences, per seed (mean ± std, seeds where the arm was "
                      f"better; {'> 0' if higher else '< 0'} favours the arm):", "",
                  "| arm − reference | " + " | ".join(heads) + " |", "|---|" + "---|" * len(columns)]
        for key, reference in paired:
            lines.append(f"| {key} − {reference} | " +
                         " | ".join(paired_cell(values[key], values[reference], e, higher) for e in columns) + " |")
    return lines + [""]


def section_tables(out: Path, section: Section, every_arm: dict[str, Arm], tasks: list[str], seeds: int,
                   eval_epochs: tuple[int, ...], steps_per_epoch: int) -> list[str]:
    arms = [every_arm[k] for k in section.also if k in every_arm] + list(section.arms)
    lines = [f"### {section.title}", ""] + ([section.note, ""] if section.note else [])
    for task in (t for t in section.tasks if t in tasks):
        shown = [a for a in arms if not a.tasks or task in a.tasks]
        lines += task_table(out, task, shown, [*eval_epochs, BEST], seeds, steps_per_epoch, section.contrasts)
    return lines
