"""Which pretraining source transfers best? synthetic-cem vs a mixture vs self vs random.

1. Pretrain pix2pix on ``synthetic-cem`` and on ``data=mix`` of the three synthetic sets
   (their data seed differs from the downstream sets', so no downstream image is seen).
2. Fine-tune segmentation on ``synthetic-hrtem`` and background removal on
   ``synthetic-stem`` from a small labelled set with ``init=random``, ``init=self`` (the
   pretext on the task's own training images, same step budget), and each pretrained run;
   a few seeds; test metrics at an early, a mid and the last epoch.
3. Print one table per task (mean ± std over seeds) and write it to ``--results``.

Everything runs through ``emkit sweep`` (resumable: rerun the same command after a kill).

    python benchmarks/transfer_study.py --out runs/transfer --seeds 3
    python benchmarks/transfer_study.py --quick          # smoke size
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

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
TASKS = {
    "segmentation": (["task=segmentation", "data=synthetic-hrtem", f"data.size={SIZE}", f"task.crop={CROP}",
                      "task.pos_weight=2.0"], "test_dice", "↑"),
    "background-removal": (["task=background-removal", "data=synthetic-stem", f"data.size={SIZE}",
                            f"task.crop={CROP}"], "test_l1", "↓"),
}


def label_of(init: str) -> str:
    if init in ("random", "self"):
        return init
    return f"P ({Path(init).name})"


def table(runs: list[Path], metric: str, epochs: list[int]) -> list[str]:
    from emkit.engine.metrics_log import read_metrics

    cells: dict[str, dict[int, list[float]]] = {}
    for run in runs:
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        label = label_of(str(cfg.get("init")))
        for row in read_metrics(run / "metrics.csv"):
            if row["kind"] == "epoch" and row.get(metric) not in (None, ""):
                cells.setdefault(label, {}).setdefault(int(row["epoch"]), []).append(float(row[metric]))
    out = ["| init | " + " | ".join(f"epoch {e}" for e in epochs) + " |", "|---|" + "---|" * len(epochs)]
    for label in sorted(cells, key=lambda s: ("random", "self").index(s) if s in ("random", "self") else 2):
        vals = []
        for e in epochs:
            v = cells[label].get(e, [])
            vals.append(f"{statistics.fmean(v):.4f} ± {statistics.stdev(v) if len(v) > 1 else 0.0:.4f} ({len(v)})"
                        if v else "–")
        out.append(f"| {label} | " + " | ".join(vals) + " |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/transfer")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--pretrain-steps", type=int, default=150)
    ap.add_argument("--finetune-epochs", type=int, default=15)
    ap.add_argument("--labelled", type=int, default=24, help="training images per downstream task")
    ap.add_argument("--tasks", default="", help="comma-separated subset of " + ", ".join(TASKS))
    ap.add_argument("--results", default="", help="write the tables to this Markdown file")
    ap.add_argument("--quick", action="store_true", help="tiny smoke-size run")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.pretrain_steps, args.finetune_epochs, args.labelled = 1, 4, 2, 8

    from emkit.engine.launch import launch
    from emkit.engine.sweep import sweep

    out = Path(args.out)
    common = ["train.device=cpu", "train.log_every=25"]
    t0 = time.perf_counter()
    pretrained = {}
    for name, data in SOURCES.items():
        done = out / "pretrain" / name
        if not (done / "generator.safetensors").exists():
            if done.exists():
                import shutil

                shutil.rmtree(done)
            launch(["pretext=pix2pix", *GEN, *data, f"pretext.crop={CROP}", "train.batch_size=8", "train.epochs=1",
                    f"train.steps_per_epoch={args.pretrain_steps}", f"data.length={8 * args.pretrain_steps}",
                    "data.val_length=16", "train.val_batches=2", f"runs_dir={out / 'pretrain'}", f"name={name}",
                    *common], [])
        pretrained[name] = done
    t_pre = time.perf_counter() - t0

    n = args.finetune_epochs
    epochs = sorted({max(1, n // 5), max(1, n // 2), n})
    lines = [f"# Transfer study (CPU, {args.seeds} seeds, {args.labelled} labelled images, "
             f"unet blocks=2 width=8, {args.pretrain_steps} pretext steps, {n} fine-tuning epochs)", ""]
    for task, (task_args, metric, arrow) in TASKS.items():
        if args.tasks and task not in args.tasks.split(","):
            continue
        inits = ",".join(["random", "self", *(str(p) for p in pretrained.values())])
        # seed before init: every arm of seed 0 finishes before seed 1 starts (useful when cut short)
        overrides = [*GEN, *task_args, f"seed={','.join(str(s) for s in range(args.seeds))}", f"init={inits}",
                     f"data.length={args.labelled}", "data.val_length=16", "data.test_length=32",
                     f"pretrain.steps={args.pretrain_steps}", "train.batch_size=4", f"train.epochs={n}",
                     "train.schedule=constant", f"eval_epochs=[{','.join(map(str, epochs))}]", *common]
        sweep(overrides, [], name=task, runs_dir=str(out))
        runs = sorted(p.parent for p in (out / task).glob("*/config.yaml"))
        lines += [f"## {task} on its synthetic set: {metric} {arrow}", "", *table(runs, metric, epochs), ""]
    total = time.perf_counter() - t0
    lines.append(f"pretraining (shared sources): {t_pre:.0f} s; total: {total:.0f} s")
    text = "\n".join(lines)
    print(text)
    if args.results:
        Path(args.results).write_text(text + "\n")


if __name__ == "__main__":
    main()
