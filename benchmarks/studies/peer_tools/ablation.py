"""Ablations: why does emkit's from-scratch U-Net converge slowly on background removal?

Each row changes one setting of the benchmark's emkit arm (random init, U-Net B2 w8, STEM
background removal, same data/steps/batch/lr as ``benchmarks/studies/peers.py``) through emkit's
own ``key=value`` overrides, so every number is what ``emkit run`` would give a user.
A knob emkit does not have is reported as such (the override is refused by emkit's config
validation, and the row says so) instead of being emulated: the table measures emkit as it
is. The last rows combine the CARE-like choices.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import invocation
from benchmarks.studies.peer_tools.peer_runs import emkit_arm
from benchmarks.studies.peer_tools.peer_tasks import TASKS, export, reference_predictors

SMALL = ["generator=unet", "generator.blocks=2", "generator.width=8"]

#: (label, overrides, what it tests). Overrides come after the benchmark's own, so they win.
#: Rows whose keys this emkit does not have yet are reported as "not available".
FLIPS_ONLY = ["task.augment.rotation=0", "task.augment.scale=[1.0,1.0]"]
INIT_AND_WARMUP: list[tuple[str, list[str], str]] = [
    ("init pix2pix", ["task.random_init=pix2pix"],
     "N(0, 0.02) convs (pix2pix; emkit's downstream random init before task.random_init)"),
    ("init default", ["task.random_init=default"], "PyTorch's own per-layer init"),
    ("init kaiming", ["task.random_init=kaiming"], "Kaiming (fan-in) init"),
    ("no warm-up", ["train.warmup=0"], "no learning-rate warm-up"),
    ("warm-up 10 %", ["train.warmup=0.1"], "linear warm-up over 10 % of the steps"),
]
VARIANTS: dict[str, list[tuple[str, list[str], str]]] = {
    "stem": [
        ("baseline", [], "the benchmark's emkit arm with emkit's defaults (see above)"),
        ("head init bias", ["task.head_init=bias"], "only the head's bias at the target mean; head weights as "
         "PyTorch initialised them (the output varies about as much as the targets)"),
        ("head init keep", ["task.head_init=keep"], "no output prior: an untrained model outputs ~0 in 2x-1 space, "
         "i.e. mid-grey (emkit before task.head_init)"),
        *INIT_AND_WARMUP,
        ("loss L1 only", ["task.l2_weight=0"], "CARE's loss (MAE) instead of L1+L2"),
        ("loss L2 only", ["task.l1_weight=0"], "MSE only"),
        ("flips only", FLIPS_ONLY, "no free rotation / rescaling (bilinear resampling of input and target); "
         "CARE augments with flips and 90° turns only"),
        ("crop 32", ["task.crop=32"], "smaller crops (4x fewer pixels per step)"),
        ("crop 128 (whole image)", ["task.crop=128"], "whole 128² images (4x more pixels per step)"),
        ("lr 1e-3", ["train.lr=1e-3"], "AtomAI's default learning rate (budget no longer matched)"),
        ("width 16", ["generator.width=16"], "twice the filters (4x params), same depth"),
        ("CARE-like: L1 + flips only", ["task.l2_weight=0", *FLIPS_ONLY], "the two CARE choices emkit can express"),
        ("CARE-like + kaiming", ["task.l2_weight=0", *FLIPS_ONLY, "task.random_init=kaiming"], "plus Kaiming init"),
    ],
    "hrtem": [
        ("baseline", [], "the benchmark's emkit arm with emkit's defaults (see above)"),
        ("head init prior", ["task.head_init=prior"], "bias at the logit of the particle rate: starts at "
         "'all background', the BCE-optimal constant"),
        ("pos_weight 2 + head init prior", ["task.pos_weight=2.0", "task.head_init=prior"],
         "both: the weighted-BCE-optimal constant is nearer p = 0.5"),
        *INIT_AND_WARMUP,
        ("pos_weight 2", ["task.pos_weight=2.0"], "particles weighted 2x in BCE (reproduce_paper's choice)"),
        ("flips only", FLIPS_ONLY, "no free rotation / rescaling (AtomAI trains without augmentation)"),
        ("crop 64", ["task.crop=64"], "64² crops (4x fewer pixels per step than AtomAI's whole images)"),
        ("lr 1e-3", ["train.lr=1e-3"], "AtomAI's default learning rate (budget no longer matched)"),
    ],
}

#: Settings suspected of slowing emkit's runs that emkit cannot change from the command line.
MISSING = [
    ("per-dataset input/target standardisation (CARE: training-set mean/std)",
     "synthetic datasets have no `normalize` option; file datasets have `data.normalize=meanstd`, which maps "
     "inputs to 0.5 + z/8 in [0, 1] (not unit variance, targets untouched). The offset part of target "
     "standardisation is what `task.head_init=prior` (the restoration default) gives: the head's "
     "bias starts at the training targets' mean and its output spread at a tenth of the targets'; the 'head init' "
     "rows measure the run without it"),
    ("normalisation layers on/off",
     "emkit's U-Net already has BatchNorm in every residual block (like CARE's U-Net); there is no switch"),
]


def _check(spec, overrides: list[str]) -> str | None:
    """None when emkit accepts the overrides, else its one-line reason."""
    from emkit.config import resolve
    from emkit.errors import EmkitError

    try:
        resolve([f"task={spec.task}", *SMALL, *spec.data_overrides(24, 4, 16), *overrides], [])
    except (EmkitError, ValueError, TypeError) as exc:
        return str(exc).splitlines()[0].split(". Valid keys")[0]
    return None


def describe_defaults(spec) -> str:
    """The settings the baseline row runs with, read from emkit's resolved config."""
    from emkit.config import resolve

    cfg = resolve([f"task={spec.task}", *SMALL], [])
    task = cfg.plugin_config("task")
    parts = []
    if hasattr(task, "l1_weight"):
        parts.append(f"loss {task.l1_weight:g}·L1 + {task.l2_weight:g}·L2")
    if hasattr(task, "pos_weight"):
        parts.append(f"loss BCE, pos_weight {task.pos_weight:g}")
    parts += [f"augment rotation ±{task.augment.rotation:g}°, scale {tuple(task.augment.scale)}, "
              f"flips {task.augment.flip_prob:g}",
              f"random_init={getattr(task, 'random_init', 'N(0, 0.02), no knob')}",
              f"head_init={getattr(task, 'head_init', 'none, no knob')}",
              f"warmup={getattr(cfg.train, 'warmup', 'none, no knob')} (None = 5 % for tasks)",
              f"crop {spec.crop}²"]
    return "; ".join(parts)


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label)


def ablate_task(spec, args) -> list[str]:
    sizes = (args.train, args.val, args.test)
    data, steps = spec.cached(*sizes), args.step_list
    arrow = "↑" if spec.higher_is_better else "↓"
    lines = [
        f"## {spec.title}", "",
        f"emkit random init, U-Net B2 w8 (31k params); {args.train} training images, batch 4, Adam 2e-4 "
        f"constant unless the row says otherwise; test {spec.metric} {arrow} on {args.test} images after "
        f"{' / '.join(map(str, steps))} steps; mean ± std over {args.seeds} seed(s); one setting changed per row. "
        f"Baseline = emkit's defaults here: {describe_defaults(spec)}.", "",
        f"| variant | overrides | test {spec.metric} at {' / '.join(map(str, steps))} | wall s/run | what it tests |",
        "|---|---|---|---|---|",
    ]
    wanted = {a for a in args.arms.split(",") if a}
    for label, overrides, why in VARIANTS[spec.key]:
        if wanted and label not in wanted and label != "baseline":
            continue
        refused = _check(spec, overrides)
        shown = " ".join(f"`{o}`" for o in overrides) or "—"
        if refused:
            lines.append(f"| {label} | {shown} | not available: {refused} | — | {why} |")
            print(f"ablation {spec.key} {label}: not available ({refused})", flush=True)
            continue
        runs = [emkit_arm(spec, generator=SMALL, init="random", seed=seed, steps=steps, data=data,
                          n_train=args.train, out=args.out / "ablation" / spec.key, name=f"{_slug(label)}-s{seed}",
                          extra=overrides) for seed in range(args.seeds)]
        cells = []
        for s in steps:
            vals = [r["metrics"][s][spec.metric] for r in runs]
            cells.append(f"{statistics.mean(vals):.3f}" + (f" ± {statistics.stdev(vals):.3f}" if len(vals) > 1 else ""))
        wall = statistics.mean(r["wall_s"] for r in runs)
        lines.append(f"| {label} | {shown} | {' / '.join(cells)} | {wall:.0f} | {why} |")
        print(f"ablation {spec.key} {label}: {' / '.join(cells)}", flush=True)
    data_dir = export(spec, args.out / spec.key / "data", *sizes)
    for name, value in reference_predictors(spec, data_dir, *sizes).items():
        lines.append(f"| reference: {name} | — | {value:.3f} at any step | — | a model that learned nothing |")
    return lines + [""]


def run_ablation(args) -> str:
    import sys

    t0 = time.perf_counter()
    lines = ["# Ablation: why emkit's from-scratch runs converge slowly (CPU)", "",
             f"Command: `{invocation()}`", "",
             f"Every run: {args.threads} torch CPU thread(s), emkit's CLI overrides only (no emkit code changed).", ""]
    for key in [k for k in args.tasks.split(",") if k]:
        lines += ablate_task(TASKS[key], args)
    lines += ["Settings suspected of slowing emkit's runs that have no emkit knob yet:", ""]
    lines += [f"* **{what}** — {why}" for what, why in MISSING]
    lines += ["", f"Total {(time.perf_counter() - t0) / 60:.1f} min.", ""]
    return "\n".join(lines)
