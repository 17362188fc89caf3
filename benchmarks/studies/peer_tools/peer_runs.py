"""Run one benchmark arm: an emkit run (in process) or a peer tool (in its own venv).

Every arm returns the same record: ``{"metrics": {step: {metric: value}}, "params": int,
"wall_s": float}`` so the table code does not care which tool produced it. emkit arms go
through ``emkit.engine.launch.start.launch`` (exactly ``emkit run``) and read the test metrics
emkit logged at ``eval_epochs``; peer arms run a driver script with the peer venv's
Python and score its predictions with ``peer_tasks.score``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.studies.peer_tools.peer_tasks import TaskSpec, score

HERE = Path(__file__).resolve().parent
BATCH = 4  # every tool's batch size


def default_venv() -> Path:
    return Path(os.environ.get("EMKIT_PEERS_VENV", Path.home() / ".cache" / "emkit-peers" / "venv"))


def ensure_peer_venv(venv: Path) -> tuple[Path, dict]:
    """Build the peer venv when missing (setup_env.sh); returns its python and install facts."""
    stamp = venv / ".emkit-peers-ok"
    if not stamp.exists():
        print(f"building the peer environment in {venv} (CAREamics + AtomAI, CPU torch) ...", flush=True)
        subprocess.run(["bash", str(HERE / "setup_env.sh"), str(venv)], check=True)
    facts = dict(line.split("=", 1) for line in stamp.read_text().split() if "=" in line)
    return venv / "bin" / "python", facts


def step_plan(steps: list[int], batches_per_pass: int) -> tuple[int, list[int]]:
    """steps_per_epoch and eval_epochs that evaluate after exactly ``steps`` optimiser steps.

    emkit caps an epoch at one pass over the training split (``batches_per_pass`` batches),
    so the epoch length is the largest divisor of every step count that fits in one pass.
    """
    per = math.gcd(*steps, batches_per_pass)
    return per, [s // per for s in steps]


def emkit_arm(spec: TaskSpec, *, generator: list[str], init: str, seed: int, steps: list[int],
              data: list[str], n_train: int, out: Path, name: str, extra: list[str] = (),
              lr: str | None = "2e-4") -> dict:
    """Fine-tune with emkit; test metrics after each of ``steps`` (constant lr, batch 4).

    ``generator`` holds the overrides that choose the model (a ``preset=`` choosing one
    included); ``init`` None leaves the init to them, ``lr`` None the learning rate and
    schedule (a preset's own)."""
    from emkit.engine.launch.start import launch
    from emkit.models import build_generator
    from emkit.models.summary import count_parameters

    per, epochs = step_plan(steps, n_train // BATCH)
    run = out / name
    if run.exists():
        shutil.rmtree(run)
    overrides = [
        f"task={spec.task}", *generator, *([f"init={init}"] if init else []), *data, f"task.crop={spec.crop}",
        f"train.batch_size={BATCH}", *([f"train.lr={lr}", "train.schedule=constant"] if lr else []),
        f"train.epochs={epochs[-1]}",
        f"train.steps_per_epoch={per}", f"eval_epochs=[{','.join(map(str, epochs))}]", "train.device=cpu",
        "train.val_batches=1", f"train.log_every={max(steps)}", f"seed={seed}", f"runs_dir={out}", f"name={name}",
        *extra,
    ]
    t0 = time.perf_counter()
    launch(overrides, [])
    wall = time.perf_counter() - t0
    metrics = _test_metrics(run / "metrics.csv")
    missing = [s for s in steps if s not in metrics]
    if missing:
        raise RuntimeError(f"{run}: no test metrics logged after steps {missing}")
    from emkit.config import resolve

    cfg = resolve([f"task={spec.task}", *generator], [])
    gen = build_generator(cfg.plugin_name("generator"), cfg.plugin_config("generator"))
    return {"metrics": metrics, "params": count_parameters(gen), "wall_s": wall}


def _test_metrics(path: Path) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            tests = {k[5:]: float(v) for k, v in row.items() if k.startswith("test_") and v not in ("", None)}
            if tests:  # keyed by the optimiser steps emkit itself counted
                out[int(row["step"])] = tests
    return out


def peer_arm(spec: TaskSpec, python: Path, data_dir: Path, *, variant: dict, seed: int, steps: list[int],
             out: Path, sizes: tuple[int, int, int], reuse: bool = False) -> dict:
    """Run the peer's driver in its venv, then score each snapshot with emkit's metrics.

    ``reuse``: a finished run of the same variant, seed and steps in ``out`` (its predictions,
    info.json and wall_s.txt) is scored again instead of retrained; used when only emkit's
    side changed (the peers' code and data are the same).
    """
    run = out / f"{spec.peer}-{variant['label']}-s{seed}"
    prefix = "pred" if spec.peer == "care" else "prob"
    if reuse and _finished(run, prefix, steps):
        info = json.loads((run / "info.json").read_text())
        metrics = {s: score(spec, np.load(run / f"{prefix}_step{s}.npy"), *sizes) for s in steps}
        return {"metrics": metrics, "params": int(info["params"]), "versions": info["versions"],
                "wall_s": float((run / "wall_s.txt").read_text()), "reused": True}
    if run.exists():
        shutil.rmtree(run)
    script = HERE / ("drive_care.py" if spec.peer == "care" else "drive_atomai.py")
    cmd = [str(python), str(script), "--data", str(data_dir), "--out", str(run), "--seed", str(seed),
           "--steps", ",".join(map(str, steps)), "--batch", "4", "--lr", "2e-4", *variant["args"]]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    threads = os.environ.get("EMKIT_PEERS_THREADS", "1")
    env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, MPLBACKEND="Agg")
    cmd += ["--threads", threads]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    (run).mkdir(parents=True, exist_ok=True)
    (run / "driver.log").write_text(proc.stdout + proc.stderr)
    (run / "wall_s.txt").write_text(f"{wall:.1f}\n")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise RuntimeError(f"{script.name} failed (exit {proc.returncode}); log {run / 'driver.log'}:\n{tail}")
    info = json.loads((run / "info.json").read_text())
    metrics = {s: score(spec, np.load(run / f"{prefix}_step{s}.npy"), *sizes) for s in steps}
    return {"metrics": metrics, "params": int(info["params"]), "wall_s": wall, "versions": info["versions"]}


def _finished(run: Path, prefix: str, steps: list[int]) -> bool:
    return all((run / name).exists() for name in ["info.json", "wall_s.txt", *(f"{prefix}_step{s}.npy" for s in steps)])


def python_of_this_process() -> str:
    return sys.executable
