"""Rerun the transfer study's HRTEM pretrained arms with today's BatchNorm default.

Commit e065090 made segmentation update BatchNorm statistics when fine-tuning pretrained
weights. This reruns only the fine-tuning of the study's pretrained HRTEM arms (its
``init=self`` stages and shared pretraining runs are reused, so nothing is pretrained
again) into ``<out>/hrtem-segmentation-norm-default`` and prints their table
(benchmarks/results/transfer_study_cpu.md, section A0).

    python benchmarks/transfer_recheck_norm.py --out runs/transfer   # after transfer_study.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import transfer_study as ts  # noqa: E402

TASK = "hrtem-segmentation"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/transfer", help="the transfer study's --out")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=20, help="the study's --finetune-epochs")
    ap.add_argument("--labelled", type=int, default=24)
    ap.add_argument("--pretrain-steps", type=int, default=300)
    args = ap.parse_args()
    out = Path(args.out)
    for seed in range(args.seeds):
        stages = sorted((out / TASK / f"seed{seed}").glob("init=self-*/pretrain/generator.safetensors"))
        if not stages:
            raise SystemExit(f"no init=self stage for seed {seed} under {out / TASK}; run transfer_study.py first")
        inits = ",".join([str(stages[0].parent), *(str(out / "pretrain" / n) for n in ts.SOURCES)])
        wall = ts.finetune((TASK, seed, ts.unit_overrides(TASK, inits, args.epochs, args), out,
                            f"{TASK}-norm-default"))
        print(f"seed {seed}: {wall:.0f} s", flush=True)
    print("\n".join(ts.section(out, TASK, [f"{TASK}-norm-default"], args.epochs, ", BatchNorm statistics updated")))


if __name__ == "__main__":
    main()
