"""Which pretraining source transfers best? synthetic-cem vs a mixture vs self vs random.

1. Pretrain pix2pix on ``synthetic-cem`` and on ``data=mix`` of the three synthetic sets
   (data seed 1: other images than the downstream sets, seed 0, so no downstream image
   is seen in pretraining).
2. Fine-tune three downstream tasks from a small labelled set: particle segmentation on
   ``synthetic-hrtem``, background removal on ``synthetic-stem`` and mitochondria
   segmentation on ``synthetic-cem`` (cellular), each with ``init=random`` (today's
   defaults: head bias at the target prior), ``init=self`` (the pretext on the task's own
   training images, same step budget) and each pretrained run; several seeds; test
   metrics at an early, a mid and the last epoch.
3. Print one table per task (mean ± std over seeds) with the trivial baselines
   (identity for restoration, all-background / all-foreground for segmentation, computed
   on the same test split with the task's own metric) and write it to ``--results``.

Every training runs through ``emkit sweep`` with one torch thread (resumable: rerun the
same command after a kill; finished runs are skipped). ``--jobs 2`` trains two
(task, seed) units at once in separate processes.

    python -m benchmarks.studies.transfer_study --out runs/transfer --seeds 3 --jobs 2 \\
        --results
    # then, reusing every finished run: the two follow-ups of transfer_study_cpu.md
    python -m benchmarks.studies.transfer_study --out runs/transfer --seeds 3 --jobs 2 --diagnose \\
        --long-task cem-mitochondria --long-epochs 50 --results
    python -m benchmarks.studies.transfer_study --dry-run        # smoke size

``--recheck NAME`` reruns, into ``<task>-NAME`` folders, the arms that main's later
``task.head_init`` change touched (transfer_study_cpu.md was first run with the older
defaults); on a fresh output folder it repeats the first pass with the same defaults.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from pathlib import Path

import yaml

from benchmarks.common import add_dry_run_flag, add_results_flag, report

GEN = ["generator=unet", "generator.blocks=2", "generator.width=8"]
SIZE = 128
CROP = 96
#: Pretraining sources (data seed 1: other images than the downstream sets, seed 0).
SOURCES = {
    "cem": ["data=synthetic-cem", f"data.size={SIZE}", "data.seed=1"],
    "mix": ["data=mix", f"data.size={SIZE}", "data.seed=1",
            "data.sources=[" + ", ".join(f"{{name: {n}, size: {SIZE}, seed: 1}}"
                                         for n in ("synthetic-cem", "synthetic-stem", "synthetic-hrtem")) + "]"],
}
#: name -> (overrides, dataset, task kind, metric, direction, title)
TASKS = {
    "hrtem-segmentation": (["task=segmentation", "data=synthetic-hrtem", f"data.size={SIZE}", f"task.crop={CROP}",
                            "task.pos_weight=2.0"], "synthetic-hrtem", "segmentation", "test_dice", "↑",
                           "particle segmentation on synthetic-hrtem"),
    "stem-background-removal": (["task=background-removal", "data=synthetic-stem", f"data.size={SIZE}",
                                 f"task.crop={CROP}"], "synthetic-stem", "background-removal", "test_l1", "↓",
                                "background removal on synthetic-stem"),
    "cem-mitochondria": (["task=segmentation", "data=synthetic-cem", f"data.size={SIZE}", f"task.crop={CROP}",
                          "task.pos_weight=2.0"], "synthetic-cem", "segmentation", "test_dice", "↑",
                         "mitochondria segmentation on synthetic-cem (cellular)"),
}
SOURCE_LABELS = {"cem": "P (synthetic-cem)", "mix": "P (mix of cem+stem+hrtem)"}
TEST_ITEMS = 32


def label_of(cfg: dict) -> str:
    """Row label of a run: its init, and a non-default ``train.norm_stats``."""
    init = str(cfg.get("init"))
    if init in ("random", "self"):
        label = init
    elif Path(init).name == "pretrain":  # an init=self run's pretext stage, reused by --long-epochs
        label = "self"
    else:
        label = SOURCE_LABELS.get(Path(init).name, f"P ({Path(init).name})")
    if init != "random" and (cfg.get("train") or {}).get("norm_stats") == "update":
        label += ", train.norm_stats=update"
    return label


def order(label: str) -> tuple[int, str]:
    return (("random", "self").index(label) if label in ("random", "self") else 2, label)


def baselines(dataset: str, kind: str) -> list[tuple[str, float]]:
    """Trivial predictors on the test split, scored like the task scores a model."""
    import torch

    from emkit.data.build import build_dataset
    from emkit.plugin_api import to_unit

    ds = build_dataset(dataset, {"size": SIZE, "test_length": TEST_ITEMS}, "test", kind)
    items = [ds[i] for i in range(len(ds))]
    if kind == "segmentation":
        from emkit_builtin.tasks.segmentation import overlap_scores

        masks = torch.stack([s["mask"] > 0 for s in items])
        empty = overlap_scores(torch.zeros_like(masks), masks)[0].mean()
        full = overlap_scores(torch.ones_like(masks), masks)[0].mean()
        share = float((masks.flatten(1).sum(1) == 0).float().mean())
        note = f" (Dice 1 on the {share:.0%} of images without foreground)" if share else ""
        return [(f"all background{note}", float(empty)),
                ("all foreground", float(full))]
    l1 = torch.stack([(to_unit(s["image"]) - to_unit(s["target"])).abs().mean() for s in items]).mean()
    return [("identity (input as output)", float(l1))]


def table(runs: list[Path], metric: str, epochs: list[int], base: list[tuple[str, float]]) -> list[str]:
    from emkit.engine.runs.metrics_log import read_metrics

    cells: dict[str, dict[int, list[float]]] = {}
    for run in runs:
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        label = label_of(cfg)
        for row in read_metrics(run / "metrics.csv"):
            if row["kind"] == "epoch" and row.get(metric) not in (None, ""):
                cells.setdefault(label, {}).setdefault(int(row["epoch"]), []).append(float(row[metric]))
    out = ["| init | " + " | ".join(f"epoch {e}" for e in epochs) + " |", "|---|" + "---|" * len(epochs)]
    for label in sorted(cells, key=order):
        vals = []
        for e in epochs:
            v = cells[label].get(e, [])
            vals.append(f"{statistics.fmean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0.0:.3f} ({len(v)})"
                        if v else "–")
        out.append(f"| {label} | " + " | ".join(vals) + " |")
    for name, value in base:
        out.append(f"| *baseline: {name}* | " + " | ".join(f"{value:.3f}" for _ in epochs) + " |")
    return out


def pretrain(job: tuple[str, list[str], Path, int]) -> None:
    """One shared pretraining run (skipped when its generator is already exported)."""
    import shutil

    import torch

    from emkit.engine.launch.start import launch

    name, data, out, steps = job
    torch.set_num_threads(1)
    done = out / "pretrain" / name
    if (done / "generator.safetensors").exists():
        return
    if done.exists():
        shutil.rmtree(done)
    launch(["pretext=pix2pix", *GEN, *data, f"pretext.crop={CROP}", "train.batch_size=8", "train.epochs=1",
            f"train.steps_per_epoch={steps}", f"data.length={8 * steps}", "data.val_length=16",
            "train.val_batches=2", f"runs_dir={out / 'pretrain'}", f"name={name}", "train.device=cpu",
            "train.log_every=25"], [])


def finetune(job: tuple) -> float:
    """Every init of one (task, seed) unit through ``sweep``; returns its wall time."""
    import torch

    from emkit.engine.launch.sweep import sweep

    task, seed, overrides, out = job[:4]
    folder = job[4] if len(job) > 4 else task
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    sweep([*overrides, f"seed={seed}"], [], name=f"{folder}/seed{seed}", runs_dir=str(out))
    return time.perf_counter() - t0


def run_all(fn, jobs: list, n: int) -> list:
    if n <= 1:
        return [fn(j) for j in jobs]
    with multiprocessing.get_context("spawn").Pool(n, maxtasksperchild=1) as pool:
        return pool.map(fn, jobs, chunksize=1)


def unit_overrides(task: str, init: str, epochs: int, args: argparse.Namespace) -> list[str]:
    """The sweep overrides of one (task, seed) unit (the seed is added by ``finetune``)."""
    evals = sorted({max(1, epochs // 6), max(1, epochs // 2), epochs})
    return [*GEN, *TASKS[task][0], f"init={init}", f"data.length={args.labelled}", "data.val_length=16",
            f"data.test_length={TEST_ITEMS}", f"pretrain.steps={args.pretrain_steps}", "train.batch_size=4",
            f"train.epochs={epochs}", "train.schedule=constant", f"eval_epochs=[{','.join(map(str, evals))}]",
            "train.device=cpu", "train.log_every=25"]


def extra_units(args: argparse.Namespace, out: Path) -> list[tuple]:
    """--diagnose (hrtem, P(synthetic-cem) with updating norm statistics) and --long-task
    (one task with every init over --long-epochs, the init=self runs' pretext stages reused)."""
    units = []
    for seed in range(args.seeds):
        if args.diagnose:
            task = "hrtem-segmentation"
            units.append((task, seed, [*unit_overrides(task, str(out / "pretrain" / "cem"), args.finetune_epochs,
                                                         args), "train.norm_stats=update"], out, f"{task}-norm-update"))
        if args.long_task:
            stages = sorted((out / args.long_task / f"seed{seed}").glob("init=self-*/pretrain/generator.safetensors"))
            if not stages:
                raise SystemExit(f"--long-task {args.long_task}: no init=self stage for seed {seed}; run the study first")
            inits = ",".join(["random", str(stages[0].parent), *(str(out / "pretrain" / n) for n in SOURCES)])
            units.append((args.long_task, seed, unit_overrides(args.long_task, inits, args.long_epochs, args), out,
                          f"{args.long_task}-long"))
        if args.recheck:  # after main's head_init change: segmentation keeps its head, restoration "prior"
            for task, arms in (("hrtem-segmentation", "all"), ("stem-background-removal", "random")):
                stages = sorted((out / task / f"seed{seed}").glob("init=self-*/pretrain/generator.safetensors"))
                inits = "random" if arms == "random" else ",".join(
                    ["random", str(stages[0].parent), *(str(out / "pretrain" / n) for n in SOURCES)])
                units.append((task, seed, unit_overrides(task, inits, args.finetune_epochs, args), out,
                              f"{task}-{args.recheck}"))
            if args.long_task:
                stages = sorted((out / args.long_task / f"seed{seed}").glob("init=self-*/pretrain/generator.safetensors"))
                inits = ",".join(["random", str(stages[0].parent), *(str(out / "pretrain" / n) for n in SOURCES)])
                units.append((args.long_task, seed, unit_overrides(args.long_task, inits, args.long_epochs, args),
                              out, f"{args.long_task}-long-{args.recheck}"))
        if args.recheck_norm:  # the pretrained HRTEM arms again, with segmentation's BatchNorm default
            task = "hrtem-segmentation"
            stages = sorted((out / task / f"seed{seed}").glob("init=self-*/pretrain/generator.safetensors"))
            if not stages:
                raise SystemExit(f"--recheck-norm: no init=self stage for seed {seed}; run the study first")
            inits = ",".join([str(stages[0].parent), *(str(out / "pretrain" / n) for n in SOURCES)])
            units.append((task, seed, unit_overrides(task, inits, args.finetune_epochs, args), out,
                          f"{task}-norm-default"))
    return units


def section(out: Path, task: str, folders: list[str], epochs: int, title_note: str = "") -> list[str]:
    _, dataset, kind, metric, arrow, title = TASKS[task]
    evals = sorted({max(1, epochs // 6), max(1, epochs // 2), epochs})
    runs = sorted(p.parent for f in folders for p in (out / f).glob("seed*/*/config.yaml"))
    return [f"## {title}{title_note}: {metric} {arrow} (mean ± std over seeds (n))", "",
            *table(runs, metric, evals, baselines(dataset, kind)), ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/transfer")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pretrain-steps", type=int, default=300)
    ap.add_argument("--finetune-epochs", type=int, default=20)
    ap.add_argument("--labelled", type=int, default=24, help="training images per downstream task")
    ap.add_argument("--tasks", default="", help="comma-separated subset of " + ", ".join(TASKS))
    ap.add_argument("--jobs", type=int, default=1, help="trainings at once (separate processes, 1 thread each)")
    ap.add_argument("--diagnose", action="store_true",
                    help="also hrtem segmentation from P(synthetic-cem) with train.norm_stats=update")
    ap.add_argument("--long-task", default="", help="also this task with every init over --long-epochs")
    ap.add_argument("--long-epochs", type=int, default=50)
    ap.add_argument("--recheck", default="", help="folder suffix: rerun hrtem segmentation (every init, init=self "
                    "stages reused) and random-init background removal with the current task defaults")
    ap.add_argument("--recheck-norm", action="store_true", help="also rerun the pretrained HRTEM arms' fine-tuning "
                    "(init=self stages and pretraining reused) with the current BatchNorm default")
    add_results_flag(ap, "transfer_study_cpu.md")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.dry_run:
        args.seeds, args.pretrain_steps, args.finetune_epochs, args.labelled, args.long_epochs = 1, 4, 2, 8, 3

    out = Path(args.out)
    tasks = [t for t in TASKS if not args.tasks or t in args.tasks.split(",")]
    t0 = time.perf_counter()
    run_all(pretrain, [(name, data, out, args.pretrain_steps) for name, data in SOURCES.items()], args.jobs)
    n = args.finetune_epochs
    inits = ",".join(["random", "self", *(str(out / "pretrain" / name) for name in SOURCES)])
    # seed-major: every task has seed 0 before any has seed 1 (useful when cut short)
    run_all(finetune, [(task, seed, unit_overrides(task, inits, n, args), out)
                       for seed in range(args.seeds) for task in tasks], args.jobs)
    run_all(finetune, extra_units(args, out), args.jobs)

    lines = [f"# Transfer study (CPU, {args.seeds} seeds, {args.labelled} labelled images, "
             f"unet blocks=2 width=8, {args.pretrain_steps} pretext steps, {n} fine-tuning epochs)", ""]
    for task in tasks:
        extra = [f"{task}-norm-update"] if args.diagnose and task == "hrtem-segmentation" else []
        lines += section(out, task, [task, *extra], n)
    if args.recheck:
        lines += section(out, "hrtem-segmentation", [f"hrtem-segmentation-{args.recheck}"], n,
                         f", current defaults ({args.recheck})")
        lines += section(out, "stem-background-removal", [f"stem-background-removal-{args.recheck}"], n,
                         f", current defaults ({args.recheck})")
    if args.recheck_norm:
        lines += section(out, "hrtem-segmentation", ["hrtem-segmentation-norm-default"], n,
                         ", pretrained arms with BatchNorm statistics updated")
    if args.long_task:
        lines += section(out, args.long_task, [f"{args.long_task}-long"], args.long_epochs,
                         f", {args.long_epochs} fine-tuning epochs")
    if args.recheck and args.long_task:
        lines += section(out, args.long_task, [f"{args.long_task}-long-{args.recheck}"], args.long_epochs,
                         f", {args.long_epochs} fine-tuning epochs, current defaults ({args.recheck})")
    lines.append(f"total wall time of this invocation: {time.perf_counter() - t0:.0f} s with --jobs {args.jobs} "
                 "(finished runs are skipped)")
    report("\n".join(lines), args.results)


if __name__ == "__main__":
    main()
