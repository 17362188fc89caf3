"""Reproduce the paper's experiment in miniature: pretrained (P) vs random (R) init.

1. Pretrain pix2pix on ``synthetic-cem`` for two generator sizes.
2. Fine-tune segmentation on ``synthetic-hrtem`` and denoising on ``synthetic-stem`` with a
   small labelled set, random vs pretrained, both sizes, a few seeds; evaluate on the test
   split at three epochs (the paper's 5/30/60, scaled down).
3. Print the comparison table (``emkit compare``) and the total time.

The comparison is fair by default: random init uses PyTorch's per-layer default
(``task.random_init=default``; ``--random-init pix2pix`` reproduces the baseline of
``reproduce_paper_cpu.md``, made before these defaults; CHANGELOG.md), fine-tuning warms
the learning rate up and keeps the pretrained BatchNorm statistics where the task asks
for it, every run keeps its best-by-validation weights (evaluated on the test split as
the ``best`` column), and the report adds min–max, paired per-seed P − R differences and
trivial baselines on the same test split.

Sized for a 2-core CPU in about 15 minutes with the defaults; ``--dry-run`` is a smoke-size
version. Everything runs through the public CLI machinery (``emkit.engine.launch.start``), so
this is exactly what ``emkit run``/``emkit compare`` do.

    python -m benchmarks.studies.reproduce_paper --out runs/reproduce --results
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, report

SIZES = {
    # label: generator overrides (small vs large U-Net_B_RF, as in the paper's model sizes)
    "small": ["generator=unet", "generator.blocks=2", "generator.width=8"],
    "large": ["generator=unet", "generator.blocks=3", "generator.width=16"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/reproduce")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--pretrain-steps", type=int, default=300)
    ap.add_argument("--finetune-epochs", type=int, default=30)
    ap.add_argument("--labelled", type=int, default=24, help="training images per downstream task")
    ap.add_argument("--random-init", default="default", choices=["default", "kaiming", "pix2pix"],
                    help="task.random_init of the R runs (pix2pix = the baseline of reproduce_paper_cpu.md)")
    add_results_flag(ap, "reproduce_paper_cpu.md")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.dry_run:
        args.seeds, args.pretrain_steps, args.finetune_epochs, args.labelled = 1, 6, 2, 8

    from emkit.engine.launch.start import launch
    from emkit.engine.launch.sweep import sweep

    out = Path(args.out)
    t0 = time.perf_counter()
    # The paper evaluates at 5/30/60 epochs; scaled to this run's length.
    eval_epochs = sorted({max(1, args.finetune_epochs // 6), max(1, args.finetune_epochs // 2), args.finetune_epochs})
    common = ["train.device=cpu", "train.log_every=25"]

    pretrained: dict[str, Path] = {}
    for label, gen in SIZES.items():
        done = out / "pretrain" / label
        if not (done / "generator.safetensors").exists():
            if done.exists():
                import shutil

                shutil.rmtree(done)
            launch([
                "pretext=pix2pix", *gen, "data=synthetic-cem", "data.size=128", "pretext.crop=96",
                "train.batch_size=8", "train.epochs=1", f"train.steps_per_epoch={args.pretrain_steps}",
                f"data.length={max(8 * args.pretrain_steps, 64)}", "data.val_length=16", "train.val_batches=2",
                f"runs_dir={out / 'pretrain'}", f"name={label}", *common,
            ], [])
        pretrained[label] = done
    t_pre = time.perf_counter() - t0

    tasks = {
        "segmentation": ["task=segmentation", "data=synthetic-hrtem", "data.size=128", "task.crop=96",
                         "task.pos_weight=2.0", "train.keep_best=val_dice"],
        "denoise": ["task=denoise", "data=synthetic-stem", "data.size=128", "task.crop=96",
                    "train.keep_best=val_l1"],
    }
    run_dirs: list[Path] = []
    for task, task_args in tasks.items():
        for label, gen in SIZES.items():
            overrides = [
                *task_args, *gen[1:], f"init=random,{pretrained[label]}", f"task.random_init={args.random_init}",
                f"seed={','.join(str(s) for s in range(args.seeds))}",
                f"data.length={args.labelled}", "data.val_length=16", "data.test_length=32",
                "train.batch_size=4", f"train.epochs={args.finetune_epochs}", "train.schedule=constant",
                f"eval_epochs=[{','.join(map(str, eval_epochs))}]", *common,
            ]
            # generator=unet must stay explicit so init runs keep the chosen size.
            run_dirs += sweep([gen[0], *overrides], [], name=f"{task}-{label}", runs_dir=str(out))
    from emkit.report import write_report

    final = write_report(run_dirs, out / "report")
    total = time.perf_counter() - t0
    header = (f"# reproduce_paper (seeds {args.seeds}, {args.labelled} labelled images, "
              f"{args.finetune_epochs} fine-tuning epochs, random init {args.random_init}): "
              f"{total:.0f} s, pretraining {t_pre:.0f} s\n\n")
    report(header + final.read_text(), args.results)


if __name__ == "__main__":
    main()
