"""How the pretext study's arms run: one ``emkit sweep`` per (task, arm, seed), resumable.

Layout under ``--out``::

    <task>/<arm>/seed<s>/<run>/            a fine-tuning run (init=self: its pretrain/ stage inside)
    corpus/<name>/seed<s>/                 a pretext run on a corpus (HRNet's bare run)
    speed.json                             seconds per pretext step, measured once (fixes the budgets)

A finished run is skipped, a killed one resumed (``emkit sweep``'s rules), so rerunning
the study's command continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from benchmarks.studies.pretext_tools.arms import PRETEXT_CROP, PRETEXTS, Arm, Section
from benchmarks.studies.transfer_study import SIZE, TASKS, TEST_ITEMS

GENERATORS = {"small": ["generator=unet", "generator.blocks=2", "generator.width=8"], "hrnet": ["generator=hrnet"]}
#: Fine-tuning: 30 epochs of 6 steps (24 images, batch 4) = 180 steps; test at 30 / 90 / 180 steps.
EPOCHS, EVAL_EPOCHS = 30, (5, 15, 30)
SPEED_CROPS = {"small": PRETEXT_CROP, "hrnet": 128}


def val_metric(task: str) -> str:
    return "val_" + TASKS[task][3].split("_", 1)[1]


def finetune_overrides(task: str, generator: str, args: argparse.Namespace) -> list[str]:
    """Every arm's fine-tuning settings (transfer_study's recipe, 180 steps, keep_best on)."""
    return [*GENERATORS[generator], *args.generator_extra.get(generator, []), *TASKS[task][0],
            f"data.length={args.labelled}", "data.val_length=16", f"data.test_length={TEST_ITEMS}",
            "train.batch_size=4", f"train.epochs={args.epochs}", "train.schedule=constant",
            f"eval_epochs=[{','.join(map(str, args.eval_epochs))}]", f"train.keep_best={val_metric(task)}",
            "train.device=cpu", "train.log_every=50", *args.finetune_extra]


def run_folder(out: Path, task: str, arm: str, seed: int) -> Path:
    return out / task / arm / f"seed{seed}"


def the_run(out: Path, task: str, arm: str, seed: int) -> Path | None:
    """The finished-or-not run directory of (task, arm, seed), or None before it started."""
    found = sorted(p.parent for p in run_folder(out, task, arm, seed).glob("*/config.yaml"))
    return found[0] if found else None


def stage_of(out: Path, task: str, arm: str, seed: int) -> Path:
    run = the_run(out, task, arm, seed)
    stage = run / "pretrain" if run else None
    if stage is None or not (stage / "generator.safetensors").exists():
        raise SystemExit(f"{task} {arm} seed {seed}: its pretext stage is not finished ({stage}); run its arm first")
    return stage


def pretext_section(arm: Arm, args: argparse.Namespace) -> str:
    options = {"name": arm.pretext, "crop": args.pretext_crop, "random_init": args.pretext_init}
    options.update(item.split(": ", 1) for item in arm.options)  # the arm's own options win
    return "pretrain.pretext={" + ", ".join(f"{k}: {v}" for k, v in options.items()) + "}"


def init_overrides(arm: Arm, task: str, seed: int, out: Path, args: argparse.Namespace) -> list[str]:
    """The ``init=`` (and ``pretrain.*``) overrides of ``arm`` for one task and seed."""
    if arm.init == "random":
        return ["init=random"]
    if arm.init == "stage":
        return [f"init={stage_of(out, task, arm.source, seed)}"]
    if arm.init == "corpus":
        return [f"init={out / 'corpus' / arm.source / f'seed{seed}'}"]
    if arm.shared and seed > 0:
        return [f"init={stage_of(out, task, arm.key, 0)}"]
    steps = args.scale_steps(arm.steps)
    extra = [pretext_section(arm, args), f"pretrain.steps={steps}"]
    if arm.unlabeled:
        dataset = TASKS[task][1]
        extra += [f"pretrain.data=[{{name: {dataset}, size: {SIZE}, seed: 1, length: {args.scale_items(arm.unlabeled)}}}]",
                  f"pretrain.weights=[{args.labelled},{args.scale_items(arm.unlabeled)}]"]
    return ["init=self", *extra]


def run_arm(job: tuple) -> float:
    """Fine-tune one (section, task, arm, seed) through ``emkit sweep``; returns its wall time.

    The arm's settings go in a config file beside the run (``arm.yaml``) and only the seed
    on the sweep's command line, so the run folder is named ``seed=<s>-<hash>`` (sweep
    splits command-line values at commas; a path holding one would be cut in two)."""
    import torch
    import yaml

    from emkit.config.overrides import parse_overrides
    from emkit.engine.launch.sweep import sweep

    section, task, arm, seed, out, args = job
    torch.set_num_threads(1)
    kind = TASKS[task][2]
    overrides = [*finetune_overrides(task, section.generator, args), *init_overrides(arm, task, seed, out, args),
                 *(o.split(":", 1)[1] if o.startswith(f"{kind}:") else o for o in arm.finetune
                   if ":" not in o.split("=", 1)[0] or o.startswith(f"{kind}:"))]
    folder = run_folder(out, task, arm.key, seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arm.yaml").write_text(yaml.safe_dump(parse_overrides(overrides), sort_keys=False))
    t0 = time.perf_counter()
    sweep([f"seed={seed}"], [str(folder / "arm.yaml")], name=str(run_folder(Path(""), task, arm.key, seed)),
          runs_dir=str(out))
    return time.perf_counter() - t0


def run_corpus(name: str, overrides: list[str], seed: int, out: Path) -> Path:
    """One corpus pretext run (skipped when finished: its wall time file is written last)."""
    import torch

    from emkit.engine.launch.start import launch

    done = out / "corpus" / name / f"seed{seed}"
    if (done / "wall_s.txt").exists():
        return done
    if done.exists():
        shutil.rmtree(done)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    launch([*overrides, f"seed={seed}", "train.device=cpu", f"runs_dir={done.parent}", f"name={done.name}"], [])
    (done / "wall_s.txt").write_text(f"{time.perf_counter() - t0:.1f}\n")
    return done


def measure_speed(out: Path, generators: list[str], steps: int, args: argparse.Namespace) -> dict:
    """Seconds per step of every pretext, per generator, measured side by side (interleaved,
    median) once and kept in speed.json, so the equal-time budgets stay fixed on reruns."""
    path = out / "speed.json"
    speed = json.loads(path.read_text()) if path.exists() else {}
    missing = [g for g in generators if g not in speed]
    if missing:
        import torch

        from benchmarks.throughput.bench_train import build, cem_batch, interleaved_seconds

        torch.set_num_threads(1)
        device = torch.device("cpu")
        for gen in missing:
            crop = SPEED_CROPS[gen] if not args.dry_run else 32
            variants = {p: build(gen.replace("small", "unet"), device, crop, GENERATORS[gen][1:] +
                                 args.generator_extra.get(gen, []), pretext=p) for p in PRETEXTS}
            speed[gen] = {"crop": crop, "batch": 8, "steps": steps,
                          **interleaved_seconds(variants, cem_batch(8, crop, device), steps)}
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(speed, indent=1))
    return speed


def jobs_for_seed(sections: list[Section], tasks: list[str], seed: int, out: Path, args) -> list[tuple]:
    return [(section, task, arm, seed, out, args) for section in sections for task in section.tasks
            if task in tasks for arm in section.arms if not arm.tasks or task in arm.tasks]
