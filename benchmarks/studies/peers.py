"""emkit side by side with the tools users would pick instead: CAREamics CARE and AtomAI.

Two tasks on emkit's built-in synthetic data, every tool with the same budget: the same
labelled training images (24), batch 4, Adam at a constant 2e-4, and the test metric after
30 / 90 / 180 optimiser steps, over several seeds:

* STEM noise + background removal (``task=background-removal``, ``synthetic-stem``):
  CAREamics CARE (its standard U-Net, 32 base channels, 64² patches, MAE) and CARE shrunk
  to 8 base channels (about emkit's small U-Net's size), vs emkit U-Net B2 w8 from random
  init, the same U-Net with ``init=self`` (pix2pix on the same 24 training inputs first), and U-Net B3 w16.
* HRTEM nanoparticle segmentation (``task=segmentation``, ``synthetic-hrtem``): AtomAI
  Segmentor (its default U-Net, 16 filters) and a 4-filter Segmentor, vs the same emkit arms.

The peers run unmodified in their own virtual environment (``benchmarks/studies/peer_tools/setup_env.sh``
builds it outside the repo, by default ``~/.cache/emkit-peers/venv``); their test
predictions are scored with emkit's own task metrics in this process, so every number is
computed exactly as emkit computes its own. The pretrained arm is ``init=self`` (a pix2pix
stage on the 24 training inputs, per seed, then fine-tuning). Not part of CI.

    python -m benchmarks.studies.peers                   # full table (~40 min on 2 CPUs)
    python -m benchmarks.studies.peers --dry-run           # smoke run: 1 seed, 12/24/48 steps
    python -m benchmarks.studies.peers --ablation        # why emkit's from-scratch run converges slowly
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, invocation, report
from benchmarks.studies.peer_tools.peer_runs import default_venv, emkit_arm, ensure_peer_venv, peer_arm
from benchmarks.studies.peer_tools.peer_tasks import TASKS, export, reference_predictors

SMALL = ["generator=unet", "generator.blocks=2", "generator.width=8"]
LARGE = ["generator=unet", "generator.blocks=3", "generator.width=16"]
B2W32 = ["generator=unet", "generator.blocks=2", "generator.width=32"]  # CARE's depth and width
#: The recommended recipe until 2026-12-08, spelled out so the tables it produced still regenerate
#: after ``preset=recommended`` changed: U-Net B3 w16, best-by-validation weights kept; STEM also
#: ``init=self`` with 300 pix2pix steps from N(0, 0.02).
RECIPE_V1 = {
    "stem": [*LARGE, "init=self", "pretrain.steps=300", "pretrain.pretext=pix2pix", "pretrain.pretext.random_init=pix2pix",
             "train.keep_best=val_l1"],
    "hrtem": [*LARGE, "train.keep_best=val_dice"],
}
EXACT = ["task.augment.exact=true", "task.augment.scale=[1,1]"]
PEER_VARIANTS = {
    "care": [{"label": "std", "name": "CAREamics CARE (standard U-Net, 32 ch)", "args": ["--channels", "32"]},
             {"label": "c8", "name": "CAREamics CARE, 8 base channels", "args": ["--channels", "8"]},
             # The same learning rate the emkit lr-1e-3 arms get: a recipe may choose its lr only
             # if the peer is measured at it too (the driver's last --lr wins).
             {"label": "std-lr1e-3", "name": "CAREamics CARE (standard U-Net, 32 ch), lr 1e-3",
              "args": ["--channels", "32", "--lr", "1e-3"]}],
    "atomai": [{"label": "std", "name": "AtomAI Segmentor (default U-Net, 16 filters)", "args": ["--filters", "16"]},
               {"label": "f4", "name": "AtomAI Segmentor, 4 filters", "args": ["--filters", "4"]},
               # AtomAI's own default learning rate
               {"label": "std-lr1e-3", "name": "AtomAI Segmentor (default U-Net, 16 filters), lr 1e-3",
                "args": ["--filters", "16", "--lr", "1e-3"]}],
}
EMKIT_ARMS = [
    {"label": "emkit-R-small", "name": "emkit random init, U-Net B2 w8", "generator": SMALL, "init": "random"},
    # The task's recommended recipe as a user runs it: the preset's own lr (1e-3) and schedule.
    {"label": "emkit-recommended", "name": "emkit `preset=recommended` (its own lr 1e-3)",
     "generator": ["preset=recommended"], "init": None, "lr": None},
    {"label": "emkit-recommended-nowarmup", "name": "emkit `preset=recommended train.warmup=0` (no warm-up, as CARE)",
     "generator": ["preset=recommended"], "init": None, "lr": None, "extra": ["train.warmup=0"]},
    {"label": "emkit-P-small", "name": "emkit `init=self` (pix2pix on the same 24 images first), U-Net B2 w8",
     "generator": SMALL, "init": "self"},
    {"label": "emkit-R-large", "name": "emkit random init, U-Net B3 w16", "generator": LARGE, "init": "random"},
    # The recommended recipe until 2026-12-08 (RECIPE_V1) and its variants.
    {"label": "emkit-recipe", "name": "emkit recipe v1 (`preset=recommended` until 2026-12-08)", "generator": RECIPE_V1,
     "init": None},
    {"label": "emkit-recipe-bnupdate", "name": "emkit recipe v1, `train.norm_stats=update`",
     "generator": RECIPE_V1, "init": None, "extra": ["train.norm_stats=update"]},
    # A schedule for the recipe: cosine decay over the 180 steps (the peers keep lr constant).
    {"label": "emkit-recipe-cosine", "name": "emkit recipe v1, `train.schedule=cosine`",
     "generator": RECIPE_V1, "init": None, "extra": ["train.schedule=cosine"]},
    {"label": "emkit-R-large-cosine", "name": "emkit random init, U-Net B3 w16, `train.schedule=cosine`",
     "generator": LARGE, "init": "random", "extra": ["train.schedule=cosine"]},
    # Learning rate 1e-3 (AtomAI's default; the peers' lr-1e-3 rows get the same).
    {"label": "emkit-recipe-lr1e-3", "name": "emkit recipe v1, `train.lr=1e-3`",
     "generator": RECIPE_V1, "init": None, "extra": ["train.lr=1e-3"]},
    {"label": "emkit-recipe-lr1e-3-cosine", "name": "emkit recipe v1, `train.lr=1e-3 train.schedule=cosine`",
     "generator": RECIPE_V1, "init": None, "extra": ["train.lr=1e-3", "train.schedule=cosine"]},
    {"label": "emkit-R-large-lr1e-3", "name": "emkit random init, U-Net B3 w16, `train.lr=1e-3`",
     "generator": LARGE, "init": "random", "extra": ["train.lr=1e-3"]},
    # Pixel-exact augmentation (integer crops, quarter turns, mirrors: CARE's kind) instead of
    # the bilinear warp, which smooths the training inputs' noise (emkit.ops.exact_augment).
    {"label": "emkit-R-large-exact", "name": "emkit random init, U-Net B3 w16, `task.augment.exact=true`",
     "generator": LARGE, "init": "random", "extra": EXACT},
    {"label": "emkit-recipe-exact", "name": "emkit recipe v1, `task.augment.exact=true`",
     "generator": RECIPE_V1, "init": None, "extra": EXACT},
    {"label": "emkit-R-large-exact-lr1e-3",
     "name": "emkit random init, U-Net B3 w16, `task.augment.exact=true train.lr=1e-3`",
     "generator": LARGE, "init": "random", "extra": [*EXACT, "train.lr=1e-3"]},
    {"label": "emkit-R-large-exact-lr1e-3-cosine",
     "name": "emkit random init, U-Net B3 w16, `task.augment.exact=true train.lr=1e-3 train.schedule=cosine`",
     "generator": LARGE, "init": "random", "extra": [*EXACT, "train.lr=1e-3", "train.schedule=cosine"]},
    # CARE's depth and width (2 levels, 32 base channels) with the same settings
    {"label": "emkit-R-b2w32-exact-lr1e-3",
     "name": "emkit random init, U-Net B2 w32, `task.augment.exact=true train.lr=1e-3`",
     "generator": B2W32, "init": "random", "extra": [*EXACT, "train.lr=1e-3"]},
    {"label": "emkit-R-b2w32-lr1e-3", "name": "emkit random init, U-Net B2 w32, `train.lr=1e-3`",
     "generator": B2W32, "init": "random", "extra": ["train.lr=1e-3"]},
    {"label": "emkit-recipe-exact-lr1e-3",
     "name": "emkit recipe v1, `task.augment.exact=true train.lr=1e-3`",
     "generator": RECIPE_V1, "init": None, "extra": [*EXACT, "train.lr=1e-3"]},
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/peers"), help="work folder (runs, exported data)")
    add_results_flag(ap, "peers_cpu.md")
    ap.add_argument("--venv", type=Path, default=None, help="peer venv (default $EMKIT_PEERS_VENV or "
                    "~/.cache/emkit-peers/venv); built when missing")
    ap.add_argument("--tasks", default="stem,hrtem")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", default="30,90,180")
    ap.add_argument("--pretext-steps", type=int, default=300, help="pix2pix steps on the training inputs")
    ap.add_argument("--train", type=int, default=24, help="labelled training images")
    ap.add_argument("--val", type=int, default=4)
    ap.add_argument("--test", type=int, default=16)
    ap.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic images (train, val and test "
                    "alike): a setting chosen on seed 0's test images is confirmed on another seed's")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for every tool (same for all; "
                    "1 is fastest for these small models on a shared 2-core machine)")
    ap.add_argument("--arms", default="", help="comma list of arm labels to run (default: all); with --ablation, row labels (the baseline "
                    "row always runs)")
    ap.add_argument("--reuse-peers", action="store_true", help="score finished peer runs in --out again instead of "
                    "retraining them (when only emkit changed); the report says which rows were reused")
    ap.add_argument("--ablation", action="store_true", help="run the ablation table instead (see "
                    "peer_tools/ablation.py; --results alone then writes peers_ablation_cpu.md)")
    add_dry_run_flag(ap)
    args = ap.parse_args(argv)
    if args.dry_run:
        args.seeds, args.steps, args.pretext_steps, args.train, args.test = 1, "2,4", 2, 8, 4
    if args.ablation and args.results and Path(args.results).name == "peers_cpu.md":
        args.results = str(Path(args.results).with_name("peers_ablation_cpu.md"))
    args.step_list = sorted({int(s) for s in args.steps.split(",")})
    return args


def fmt(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def table(spec, rows: dict[str, dict], steps: list[int], references: dict[str, float]) -> str:
    arrow = "↑" if spec.higher_is_better else "↓"
    head = " / ".join(map(str, steps))
    lines = [f"### {spec.title}", "",
             f"| tool | params | test {spec.metric} {arrow} at {head} steps (mean ± std over seeds) | wall s/run |",
             "|---|---|---|---|"]
    for label, row in rows.items():
        runs = row["runs"]
        if not runs:
            continue
        cells = [fmt([r["metrics"][s][spec.metric] for r in runs]) for s in steps]
        wall = statistics.mean(r["wall_s"] for r in runs)
        lines.append(f"| {row['name']} | {runs[0]['params'] / 1000:.0f}k | {' / '.join(cells)} "
                     f"(n={len(runs)}) | {wall:.0f} |")
    for name, value in references.items():
        lines.append(f"| reference: {name} | 0 | {value:.3f} at any step | — |")
    return "\n".join(lines)


def machine() -> str:
    import os

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def run_benchmark(args: argparse.Namespace) -> str:
    import torch

    import emkit

    peer_env: dict = {}  # built on first use: an emkit-only run (--arms) needs no peer venv
    wanted = {a for a in args.arms.split(",") if a}
    sizes = (args.train, args.val, args.test)
    t_start = time.perf_counter()
    sections, versions, raw, reused = [], {}, {}, set()
    for key in [k for k in args.tasks.split(",") if k]:
        spec = dataclasses.replace(TASKS[key], data_seed=args.data_seed)
        out = args.out / key
        data_dir = export(spec, out / "data", *sizes)
        data = spec.cached(*sizes)
        rows: dict[str, dict] = {}
        for variant in PEER_VARIANTS[spec.peer]:
            label = f"{spec.peer}-{variant['label']}"
            rows[label] = {"name": variant["name"], "runs": []}
            if wanted and label not in wanted:
                continue
            if not peer_env:
                peer_env["python"], peer_env["facts"] = ensure_peer_venv(args.venv or default_venv())
            for seed in range(args.seeds):
                rec = peer_arm(spec, peer_env["python"], data_dir, variant=variant, seed=seed, steps=args.step_list,
                               out=out / "peer-runs", sizes=sizes, reuse=args.reuse_peers)
                if rec.pop("reused", False):
                    reused.add(variant["name"])
                versions.update({f"{k} (peer env)" if k in ("torch", "numpy") else k: v
                                 for k, v in rec.pop("versions").items()})
                rows[label]["runs"].append(rec)
                print(f"{key} {label} seed {seed}: {_brief(rec, spec)}", flush=True)
        for arm in EMKIT_ARMS:
            rows[arm["label"]] = {"name": arm["name"], "runs": []}
            if wanted and arm["label"] not in wanted:
                continue
            # init=self: each seed runs its own pretext stage on the 24 training inputs, then fine-tunes
            extra = [f"pretrain.steps={args.pretext_steps}"] if arm["init"] == "self" else []
            extra += arm.get("extra", [])
            for seed in range(args.seeds):
                rec = emkit_arm(spec, generator=_per_task(arm["generator"], key), init=arm["init"], seed=seed,
                                steps=args.step_list, data=data, n_train=args.train, out=out / "emkit-runs",
                                name=f"{arm['label']}-s{seed}", extra=extra, lr=arm.get("lr", "2e-4"))
                rows[arm["label"]]["runs"].append(rec)
                print(f"{key} {arm['label']} seed {seed}: {_brief(rec, spec)}", flush=True)
        sections.append(table(spec, rows, args.step_list, reference_predictors(spec, data_dir, *sizes)))
        raw[key] = rows
    total = time.perf_counter() - t_start
    (args.out / "peers_raw.json").write_text(json.dumps(raw, indent=1, default=str))
    versions = {"emkit": emkit.__version__, "torch (emkit env)": torch.__version__, **versions}
    header = [
        "# emkit vs CAREamics / AtomAI on emkit's synthetic tasks (CPU)", "",
        f"Command: `{invocation()}`", "",
        f"Machine: {machine()}; total {total / 60:.1f} min (shared CPU: other jobs may have been running).",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"Peer environment: {args.venv or default_venv()}, built by benchmarks/studies/peer_tools/setup_env.sh in "
        f"{_install_seconds(args)} s (pins and the one workaround: benchmarks/studies/peer_tools/requirements.txt).", "",
        f"Every tool runs with {args.threads} torch CPU thread(s). "
        f"Budget for every tool: {args.train} labelled training images, batch 4, Adam lr 2e-4 constant "
        "(unless the row names another lr or schedule), "
        f"test metric after {' / '.join(map(str, args.step_list))} optimiser steps on the same {args.test} "
        f"test images ({TASKS['stem'].size}² px, synthetic data seed {args.data_seed}), {args.seeds} seed(s); "
        "peers' predictions scored with emkit's "
        "task metrics. emkit crops: STEM 64² (= CARE's patches), HRTEM whole 128² images (= what AtomAI "
        f"trains on). Pretrained arm: `init=self pretrain.steps={args.pretext_steps}`: per seed, a pix2pix "
        f"stage on the {args.train} training inputs (labels unused), then fine-tuning; its wall time includes "
        "that stage. emkit defaults as of this commit (random init: PyTorch's per-layer init, "
        "`task.head_init=prior` for restoration, `keep` for segmentation, 5 % warm-up).", "",
    ]
    if reused:
        header += [f"Peer rows trained earlier in the same work folder and scored again now (`--reuse-peers`; "
                   f"their wall times are from that run): {', '.join(sorted(reused))}.", ""]
    return "\n".join(header + ["\n\n".join(sections), ""])


def _per_task(overrides: list[str] | dict[str, list[str]], key: str) -> list[str]:
    """An arm's model overrides: one list for every task, or a list per task key."""
    return overrides[key] if isinstance(overrides, dict) else overrides


def _install_seconds(args: argparse.Namespace) -> str:
    stamp = (args.venv or default_venv()) / ".emkit-peers-ok"
    text = stamp.read_text() if stamp.exists() else ""
    return text.split("install_seconds=", 1)[1].split()[0] if "install_seconds=" in text else "?"


def _brief(rec: dict, spec) -> str:
    return " ".join(f"{s}:{m[spec.metric]:.3f}" for s, m in sorted(rec["metrics"].items())) + \
        f" ({rec['params'] / 1000:.0f}k params, {rec['wall_s']:.0f} s)"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    import os

    import torch

    torch.set_num_threads(args.threads)
    os.environ["EMKIT_PEERS_THREADS"] = str(args.threads)  # read by peer_runs for the drivers
    if args.ablation:
        from benchmarks.studies.peer_tools.ablation import run_ablation

        text = run_ablation(args)
    else:
        text = run_benchmark(args)
    report(text, args.results)


if __name__ == "__main__":
    main()
