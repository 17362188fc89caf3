"""Measure the two choices behind a fair P-vs-R comparison, on emkit's synthetic tasks.

1. ``random``: downstream training from random weights with each ``task.random_init``
   scheme (default = PyTorch per layer, kaiming, pix2pix N(0, 0.02)); prints the
   validation metric after every epoch, mean over seeds, side by side.
2. ``warmup``: fine-tunes a small pix2pix-pretrained U-Net on background removal and
   prints the validation L1 *before* fine-tuning (the pretrained model applied directly)
   and after each early epoch: without warm-up and with BatchNorm statistics updated (how
   emkit fine-tuned before these defaults; CHANGELOG.md), with warm-up only, with the
   restoration defaults (warm-up, BatchNorm statistics frozen: ``train.norm_stats``), and
   with ``train.head_first_steps`` on top.

Everything runs through ``emkit.engine.launch.start`` (what ``emkit run`` does) on CPU.

    python -m benchmarks.studies.fair_baseline --out runs/fair --results
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, report

GEN = ["generator=unet", "generator.blocks=2", "generator.width=8"]
COMMON = ["train.device=cpu", "train.log_every=50", "train.batch_size=4", "train.schedule=constant"]
TASKS = {
    "segmentation": (["task=segmentation", "data=synthetic-hrtem", "task.pos_weight=2.0"], "val_dice"),
    "denoise": (["task=denoise", "data=synthetic-stem"], "val_l1"),
}


def epoch_rows(run: Path) -> dict[int, dict[str, float]]:
    from emkit.report.runs import load_run

    return load_run(run).epochs


def train(overrides: list[str], runs_dir: Path, name: str) -> Path:
    from emkit.engine.launch.start import launch

    path = runs_dir / name
    if not (path / "generator.safetensors").exists():
        if path.exists():
            import shutil

            shutil.rmtree(path)
        launch([*overrides, f"runs_dir={runs_dir}", f"name={name}"], [])
    return path


def start_value(overrides: list[str], metric: str) -> float:
    """Validation metric of the initial generator (before any step), as the loop computes it."""
    import torch

    from emkit.config import resolve
    from emkit.engine.runtime import distributed
    from emkit.plugin_api import StepContext
    from emkit.engine.runtime.devices import autocast_factory
    from emkit.engine.loop.objective_setup import build_objective
    from emkit.engine.evaluation.split_metrics import VAL_SALT, eval_loader, evaluate
    from emkit.engine.loop.run_datasets import run_dataset

    cfg = resolve(overrides)
    objective = build_objective(cfg)
    ds = run_dataset(cfg, "val", objective.dataset_target)
    ctx = StepContext(device=torch.device("cpu"), autocast=autocast_factory(torch.device("cpu"), "fp32"))
    loader = eval_loader(ds, cfg.train.batch_size, distributed.DistInfo(), 0, False)
    values, _ = evaluate(objective, loader, ctx, distributed.DistInfo(), VAL_SALT, None, cfg.run.seed)
    return values[metric.removeprefix("val_")]


def fmt(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}"


def random_init(args, out: Path) -> list[str]:
    lines = [f"## random init: validation metric per epoch (mean ± std over {args.seeds} seeds; "
             f"{args.labelled} labelled images, {args.size}² crops {args.crop}², batch 4, Adam 2e-4, no warm-up)", ""]
    for task, (targs, metric) in TASKS.items():
        table: dict[str, dict[int, list[float]]] = {}
        for scheme in ("default", "kaiming", "pix2pix"):
            for seed in range(args.seeds):
                run = train([*targs, *GEN, *COMMON, f"data.size={args.size}", f"task.crop={args.crop}",
                             f"data.length={args.labelled}", "data.val_length=16", f"train.epochs={args.epochs}",
                             "train.warmup=0", f"task.random_init={scheme}", f"seed={seed}"],
                            out / "random" / task, f"{scheme}-s{seed}")
                for epoch, row in epoch_rows(run).items():
                    table.setdefault(scheme, {}).setdefault(epoch, []).append(row[metric])
        epochs = sorted(next(iter(table.values())))
        lines += [f"### {task}: {metric} ({'higher' if 'dice' in metric else 'lower'} is better)", "",
                  "| random_init | " + " | ".join(f"epoch {e}" for e in epochs) + " |",
                  "|---|" + "---|" * len(epochs)]
        for scheme, per in table.items():
            lines.append(f"| {scheme} | " + " | ".join(fmt(per[e]) for e in epochs) + " |")
        lines.append("")
    return lines


def warmup(args, out: Path) -> list[str]:
    pre = train(["pretext=pix2pix", *GEN, "data=synthetic-cem", f"data.size={args.size}", f"pretext.crop={args.crop}",
                 "train.batch_size=8", "train.epochs=1", f"train.steps_per_epoch={args.pretrain_steps}",
                 f"data.length={8 * args.pretrain_steps}", "data.val_length=16", "train.val_batches=2",
                 "train.device=cpu", "train.log_every=50"], out / "warmup", "pretrain")
    base = ["task=background-removal", "data=synthetic-stem", *GEN, *COMMON, f"data.size={args.size}",
            f"task.crop={args.crop}", f"data.length={args.labelled}", "data.val_length=16",
            f"train.epochs={args.warmup_epochs}", f"init={pre}"]
    variants = {
        "before: no warm-up, BN statistics update": ["train.warmup=0", "train.norm_stats=update"],
        "warm-up 5%, BN statistics update": ["train.norm_stats=update"],
        "now: warm-up 5%, BN statistics frozen": [],
        "now + head first 10 steps": ["train.head_first_steps=10"],
    }
    steps = args.labelled // 4 * args.warmup_epochs
    lines = [f"## fine-tuning a pix2pix-pretrained U-Net on background removal: validation L1 (lower is better)",
             "", f"{args.labelled} labelled images, {args.warmup_epochs} epochs = {steps} steps at Adam 2e-4; "
             f"epoch 0 = the pretrained model applied directly; mean ± std over {args.seeds} seeds.", ""]
    table: dict[str, dict[int, list[float]]] = {}
    for label, extra in variants.items():
        for seed in range(args.seeds):
            overrides = [*base, *extra, f"seed={seed}"]
            table.setdefault(label, {}).setdefault(0, []).append(start_value(overrides, "val_l1"))
            run = train(overrides, out / "warmup", f"variant{list(variants).index(label)}-s{seed}")
            for epoch, row in epoch_rows(run).items():
                table[label].setdefault(epoch, []).append(row["val_l1"])
    epochs = sorted(next(iter(table.values())))
    lines += ["| fine-tuning | " + " | ".join(f"epoch {e}" for e in epochs) + " |", "|---|" + "---|" * len(epochs)]
    for label, per in table.items():
        lines.append(f"| {label} | " + " | ".join(fmt(per[e]) for e in epochs) + " |")
    return lines + [""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/fair")
    ap.add_argument("--part", choices=["random", "warmup", "both"], default="both")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--labelled", type=int, default=24)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--crop", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--warmup-epochs", type=int, default=4)
    ap.add_argument("--pretrain-steps", type=int, default=200)
    add_results_flag(ap, "fair_baseline_cpu.md")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.dry_run:
        args.seeds, args.labelled, args.size, args.crop, args.epochs, args.warmup_epochs = 1, 8, 64, 48, 1, 1
        args.pretrain_steps = 2
    out = Path(args.out)
    t0 = time.perf_counter()
    lines = ["# Fair baseline measurements (benchmarks.studies.fair_baseline)", ""]
    if args.part in ("random", "both"):
        lines += random_init(args, out)
    if args.part in ("warmup", "both"):
        lines += warmup(args, out)
    lines.append(f"total time {time.perf_counter() - t0:.0f} s (CPU)")
    report("\n".join(lines), args.results)


if __name__ == "__main__":
    main()
