"""Which pretext transfers best, does the GAN matter, and how much does pretraining pay?

pix2pix (conditional GAN restoration) vs ``restore`` (the same pairs, L1 only: the GAN
ablation) vs ``masked`` (masked-image modelling) vs random init, fine-tuned on emkit's
three synthetic downstream tasks (transfer_study.py's: particle segmentation on
synthetic-hrtem, background removal on synthetic-stem, mitochondria segmentation on
synthetic-cem; 24 labelled 128² images, 96² crops, batch 4, Adam 2e-4 constant, 180
steps, test metrics on 32 images after 30 / 90 / 180 steps and with the keep_best
weights; 3 seeds; trivial baselines in every table; paired P − R per seed).

Sections (``--sections``):

* ``speed``: seconds per pretext step of each pretext, measured side by side in one
  interleaved benchmark (robust to machine load); the equal-time budgets come from it.
* ``pretexts`` (U-Net B2 w8): ``init=self`` with each pretext at ``--budget`` steps, and
  restore / masked at the steps that take ``--budget`` pix2pix steps' wall time.
* ``probe``: the frozen-feature probe (``train.freeze=body``: only the output head learns)
  on the pretexts' features and on random ones.
* ``masked``: masked-image modelling with the mask hidden (noise fill) and composed with
  the degradation op.
* ``tuning``: fine-tuning a pretrained body with BatchNorm statistics updated
  (restoration keeps them frozen by default) and with a fresh segmentation head.
* ``budget`` / ``unlabeled``: ``--long-pretexts`` at ``--long-budgets`` steps (one stage
  per task, seed 0, fine-tuned with every seed) and the first of those budgets with
  300 unlabeled images of the task's kind pooled with the 24 training images.
* ``hrnet``: HRNet fine-tuned from random init and from the bare main job's generator
  (``emkit run pretext=pix2pix generator=hrnet``, data seed 1) with its variants.

Every training runs through ``emkit sweep`` with one torch thread; rerunning the same
command skips finished runs and resumes killed ones, so the study can be built up a
section at a time::

    OMP_NUM_THREADS=1 python -m benchmarks.studies.pretext_study --out runs/pretext --results
    python -m benchmarks.studies.pretext_study --dry-run        # tiny sizes, checks the wiring
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, report
from benchmarks.studies.pretext_tools.arms import PRETEXTS, small_sections
from benchmarks.studies.pretext_tools.hrnet_arms import corpus, hrnet_section
from benchmarks.studies.pretext_tools.runs import (EPOCHS, EVAL_EPOCHS, jobs_for_seed, measure_speed, run_arm,
                                                   run_corpus)
from benchmarks.studies.pretext_tools.tables import section_tables
from benchmarks.studies.transfer_study import TASKS, run_all

SECTIONS = ("speed", "pretexts", "probe", "masked", "tuning", "budget", "unlabeled", "hrnet")
#: A tiny HRNet for the dry run.
TINY_HRNET = ["generator.stem_width=8", "generator.stage1_width=4", "generator.widths=[4,8,8,8]",
              "generator.modules=[1,1,1]", "generator.blocks=[1,1,1]", "generator.decoder_widths=[8,4,4]"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/pretext"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma list of " + ", ".join(SECTIONS))
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma list of " + ", ".join(TASKS))
    ap.add_argument("--arms", default="", help="comma list of arm keys to train (default: every arm of the sections)")
    ap.add_argument("--budget", type=int, default=300, help="pretext steps of the main comparison")
    ap.add_argument("--long-budgets", default="1000,3000")
    ap.add_argument("--long-pretexts", default="restore,masked")
    ap.add_argument("--labelled", type=int, default=24)
    ap.add_argument("--pretext-crop", type=int, default=64, help="crop of the small U-Net's pretext stages")
    ap.add_argument("--pretext-init", default="default", choices=("default", "pix2pix", "kaiming"),
                    help="pretext.random_init of the small U-Net's pretext stages")
    ap.add_argument("--speed-steps", type=int, default=12, help="interleaved steps per pretext in the speed section")
    ap.add_argument("--report-only", action="store_true",
                    help="train nothing: write the tables from the runs finished so far")
    ap.add_argument("--jobs", type=int, default=1, help="trainings at once (separate processes, 1 thread each)")
    add_results_flag(ap, "pretext_study_cpu.md")
    add_dry_run_flag(ap)
    args = ap.parse_args(argv)
    args.epochs, args.eval_epochs, args.generator_extra, args.finetune_extra = EPOCHS, EVAL_EPOCHS, {}, []
    args.scale_steps = args.scale_items = lambda n: n
    if args.dry_run:
        args.seeds, args.labelled, args.epochs, args.eval_epochs = 1, 8, 2, (1, 2)
        args.tasks, args.speed_steps, args.pretext_crop = "stem-background-removal", 1, 32
        args.long_budgets, args.long_pretexts = "1000", "restore"
        args.generator_extra = {"hrnet": TINY_HRNET}
        args.finetune_extra = ["data.size=48", "task.crop=32", "data.val_length=4", "data.test_length=4"]
        args.scale_steps, args.scale_items = (lambda n: max(2, n // 150)), (lambda n: max(4, n // 50))
    return args


def speed_table(speed: dict) -> list[str]:
    lines = ["### seconds per pretext step, measured side by side", "",
             "| generator | crop, batch | " + " | ".join(f"{p} s/step" for p in PRETEXTS) +
             " | " + " | ".join(f"{p} steps per pix2pix step's time" for p in PRETEXTS[1:]) + " |",
             "|---|---|" + "---|" * (2 * len(PRETEXTS) - 1)]
    for gen, row in speed.items():
        lines.append(f"| {gen} | {row['crop']}², {row['batch']} | " + " | ".join(f"{row[p]:.3f}" for p in PRETEXTS)
                     + " | " + " | ".join(f"{row['pix2pix'] / row[p]:.2f}" for p in PRETEXTS[1:]) + " |")
    return lines + ["", f"Median of {next(iter(speed.values()))['steps']} interleaved steps each (one torch thread); "
                        "the ratios set the equal-time budgets.", ""]


def build_sections(args: argparse.Namespace, speed: dict) -> list:
    longs = tuple(int(b) for b in args.long_budgets.split(",") if b)
    small = small_sections(speed["small"], args.budget, longs, tuple(p for p in args.long_pretexts.split(",") if p),
                           tuple(TASKS))
    return small + [hrnet_section(speed.get("hrnet"), tuple(TASKS))]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out, wanted = args.out, [s for s in args.sections.split(",") if s]
    tasks = [t for t in args.tasks.split(",") if t]
    t0 = time.perf_counter()
    measured = ["small", "hrnet"] if "hrnet" in wanted else ["small"]
    speed = measure_speed(out, [] if args.report_only else measured, args.speed_steps, args)
    sections = [s for s in build_sections(args, speed) if s.key in wanted]
    every_arm = {a.key: a for s in build_sections(args, speed) for a in s.arms}
    arms = {a for a in args.arms.split(",") if a}
    if unknown := sorted(arms - set(every_arm)):
        raise SystemExit(f"--arms: unknown arm(s) {', '.join(unknown)}; expected some of {', '.join(every_arm)}")
    for seed in range(0 if args.report_only else args.seeds):  # seed-major: every section has seed 0 before any has seed 1
        jobs = [job for job in jobs_for_seed(sections, tasks, seed, out, args) if not arms or job[2].key in arms]
        sources = {job[2].source for job in jobs if job[2].init == "corpus"}
        tiny = [*args.generator_extra.get("hrnet", []), *TINY_CORPUS] if args.dry_run else []
        for name, overrides in corpus(speed.get("hrnet")).items():
            if name in sources:
                run_corpus(name, [*overrides, *tiny], seed, out)
        run_all(run_arm, jobs, args.jobs)
    seeds = f"{args.seeds} seeds" if args.seeds == 3 else f"up to {args.seeds} seeds: each value's (n) says how many"
    lines = [f"# Pretext study (CPU, {seeds}, {args.labelled} labelled images, {args.epochs} fine-tuning "
             f"epochs of {args.labelled // 4} steps)", "",
             f"U-Net B2 w8 pretext stages: {args.pretext_crop}² crops, batch 8, `pretext.random_init={args.pretext_init}`, "
             "on the task's own training images (`init=self`); fine-tuning: 96² crops, batch 4, Adam 2e-4 constant, "
             "`train.keep_best` on the validation metric (16 images), test metrics on 32 images.", ""]
    lines += speed_table(speed) if "speed" in wanted else []
    for section in sections:
        lines += section_tables(out, section, every_arm, tasks, args.seeds, args.eval_epochs, args.labelled // 4)
    lines.append(f"total wall time of this invocation: {time.perf_counter() - t0:.0f} s with --jobs {args.jobs} "
                 "(finished runs are skipped)")
    report("\n".join(lines), args.results)


#: Tiny corpus runs for the dry run.
TINY_CORPUS = ["train.epochs=1", "train.steps_per_epoch=2", "data.val_length=4", "train.val_batches=1",
               "pretext.crop=32"]


if __name__ == "__main__":
    main()
