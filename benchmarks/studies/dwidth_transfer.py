"""Does HRNet's smaller default discriminator cost transfer? D width 18 vs the paper's 64.

HRNet's scale is its branch width (W18, W32, W48 all share a 64-wide stem), so the
automatic PatchGAN width now follows ``widths[0]`` (18 for the default W18) instead of
the stem (64). That makes the bare ``emkit run pretext=pix2pix generator=hrnet`` about
1.7x faster on a 2-core CPU. This checks what it costs:

1. For each seed, the bare pretext run (3 x 60 steps of 8 crops of 128² on the default
   mix; data seed 1, so no downstream image is pretrained on) with ``pretext.d_width=18``
   and ``=64``; its last validation L1 next to the identity baseline.
2. HRNet fine-tuned from each (and from random init) on transfer_study's three tasks
   (24 labelled images, 128², crop 96, batch 4, Adam 2e-4 constant, test metrics at
   epochs 3/10/20), through ``emkit sweep``, one torch thread per training.

    python -m benchmarks.studies.dwidth_transfer --out runs/dwidth --seeds 3 --jobs 2 --results

Rerunning skips finished runs. ``--head-check NAME=OVERRIDES`` (repeatable) adds the
follow-up: HRTEM particle segmentation fine-tuned from each seed's width-18 pretext run
with other head / BatchNorm settings, e.g.
``--head-check default= --head-check frozen=train.norm_stats=frozen``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, report
from benchmarks.studies import transfer_study
from benchmarks.studies.transfer_study import TASKS, finetune, run_all, section

WIDTHS = (18, 64)
MIX_SEED1 = "data.sources=[" + ", ".join(f"{{name: {n}, seed: 1}}"
                                         for n in ("synthetic-cem", "synthetic-stem", "synthetic-hrtem")) + "]"


def pretext(job: tuple[int, int, Path]) -> None:
    """The bare pretext run with one discriminator width and seed, and its wall time in
    ``wall_s.txt`` (written last, so it marks a finished run: skipped when present)."""
    import shutil

    import torch

    from emkit.engine.launch.start import launch

    width, seed, out, tiny = job
    done = out / "pretrain" / f"seed{seed}" / f"d{width}"
    if (done / "wall_s.txt").exists():
        return
    if done.exists():
        shutil.rmtree(done)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    launch(["pretext=pix2pix", "generator=hrnet", f"pretext.d_width={width}", f"seed={seed}", "data=mix",
            MIX_SEED1, "train.channels_last=true", "train.device=cpu",
            f"runs_dir={done.parent}", f"name={done.name}", *tiny], [])
    (done / "wall_s.txt").write_text(f"{time.perf_counter() - t0:.1f}\n")


def pretext_table(out: Path, seeds: int) -> list[str]:
    """Last-epoch validation L1 of the pretext runs (mean ± std over seeds) and the identity."""
    from emkit.engine.runs.metrics_log import read_metrics

    rows = ["| pretext | val L1 (last epoch) | identity val L1 | wall s |", "|---|---|---|---|"]
    for width in WIDTHS:
        vals, ident, walls = [], [], []
        for seed in range(seeds):
            run = out / "pretrain" / f"seed{seed}" / f"d{width}"
            epochs = [r for r in read_metrics(run / "metrics.csv") if r["kind"] == "epoch" and r.get("val_l1")]
            vals.append(float(epochs[-1]["val_l1"]))
            ident.append(float(epochs[-1]["val_l1_identity"]))
            walls.append(float((run / "wall_s.txt").read_text()))
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        rows.append(f"| d_width={width} | {statistics.fmean(vals):.4f} ± {sd:.4f} ({len(vals)}) | "
                    f"{statistics.fmean(ident):.4f} | {statistics.fmean(walls):.0f} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/dwidth")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--labelled", type=int, default=24)
    ap.add_argument("--tasks", default="", help="comma-separated subset of " + ", ".join(TASKS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--head-check", action="append", default=[], metavar="NAME=OVERRIDES",
                    help="follow-up on HRTEM segmentation from the d18 pretext with space-separated overrides")
    add_results_flag(ap, "dwidth_transfer_cpu.md")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    tiny = []
    if args.dry_run:
        args.seeds, args.epochs, args.labelled, args.tasks = 1, 1, 8, "stem-background-removal"
        tiny = ["train.epochs=1", "train.steps_per_epoch=2", "data.val_length=4", "train.val_batches=1",
                "pretext.crop=32", "generator.widths=[4,8,16,32]", "generator.stem_width=8"]
    out = Path(args.out)
    tasks = [t for t in TASKS if not args.tasks or t in args.tasks.split(",")]
    t0 = time.perf_counter()
    run_all(pretext, [(w, s, out, tiny) for s in range(args.seeds) for w in WIDTHS], args.jobs)

    # transfer_study's fine-tuning recipe with the HRNet generator instead of its small U-Net
    transfer_study.GEN = ["generator=hrnet"]
    args.pretrain_steps = 0  # unused: no init=self arm here
    units = []
    for seed in range(args.seeds):
        inits = ",".join(["random", *(str(out / "pretrain" / f"seed{seed}" / f"d{w}") for w in WIDTHS)])
        for task in tasks:
            overrides = [o for o in transfer_study.unit_overrides(task, inits, args.epochs, args)
                         if not o.startswith("pretrain.steps")]
            units.append((task, seed, overrides, out))
    checks = dict(spec.partition("=")[::2] for spec in args.head_check)
    for name, extra in checks.items():
        for seed in range(args.seeds):
            task = "hrtem-segmentation"
            overrides = [o for o in transfer_study.unit_overrides(task, str(out / "pretrain" / f"seed{seed}" / "d18"),
                                                                  args.epochs, args) if not o.startswith("pretrain.")]
            units.append((task, seed, [*overrides, *extra.split()], out, f"{task}-head-{name}"))
    run_all(finetune, units, args.jobs)

    lines = [f"# HRNet discriminator width 18 vs 64: pretext and transfer (CPU, {args.seeds} seeds)", "",
             "## Bare pretext run (3 x 60 steps, batch 8, 128² crops, data=mix with data seed 1)", "",
             *pretext_table(out, args.seeds), "",
             "wall s: one torch thread, two runs at once; only the ratio between the rows means anything.", ""]
    for task in tasks:
        lines += section(out, task, [task], args.epochs)
    for name, extra in checks.items():
        lines += section(out, "hrtem-segmentation", [f"hrtem-segmentation-head-{name}"], args.epochs,
                         f", P (d18) fine-tuned with {extra or 'the defaults'}")
    lines.append(f"total wall time of this invocation: {time.perf_counter() - t0:.0f} s with --jobs {args.jobs}")
    report("\n".join(lines), args.results)


if __name__ == "__main__":
    main()
