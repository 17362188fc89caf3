"""``emkit eval RUN``: re-evaluate a run's generator on a split of its dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from emkit.config import resolve
from emkit.engine.runtime import distributed
from emkit.storage.atomic import write_text_atomic
from emkit.engine.runs.checkpoint import latest
from emkit.engine.runtime.devices import select_device
from emkit.engine.evaluation.split_metrics import TEST_SALT, eval_loader
from emkit.engine.loop.objective_setup import build_objective, prepare_objective
from emkit.engine.evaluation.per_image import chosen_weights, evidence_dir, write_evidence
from emkit.engine.loop.run_datasets import run_dataset
from emkit.engine.runs.weights import WEIGHTS, load_tensors
from emkit.errors import EmkitError


def evaluate_run(run_dir: str | Path, *, split: str = "test", device: str = "auto",
                 batch_size: int | None = None, weights_from: str = "final",
                 save_predictions: bool = False) -> dict[str, float]:
    """Metrics of the run's generator (``weights_from="best"``: its keep_best weights) on
    ``split``; writes eval_<split>[_best].json and per-image evidence beside it."""
    run_dir = Path(run_dir)
    saved = run_dir / "config.yaml"
    if not saved.exists():
        raise EmkitError(f"{run_dir} is not an emkit run directory (no config.yaml)")
    cfg = resolve([f"train.device={device}"], [saved])
    weights = run_dir / WEIGHTS
    tag, weights_dir = chosen_weights(run_dir, weights_from)
    if weights_dir is not None:
        cfg.run = dataclasses.replace(cfg.run, init=str(weights_dir))
        objective = build_objective(cfg)
        source = str(weights_dir.relative_to(run_dir) / WEIGHTS)
    elif weights.exists():
        cfg.run = dataclasses.replace(cfg.run, init=str(run_dir))
        objective = build_objective(cfg)
        source = WEIGHTS
    else:
        pointer = latest(run_dir / "checkpoints")
        if pointer is None:
            raise EmkitError(f"{run_dir} has neither {WEIGHTS} nor a checkpoint to evaluate")
        cfg.run = dataclasses.replace(cfg.run, init="random")
        objective = build_objective(cfg)
        tensors = load_tensors(run_dir / "checkpoints" / pointer["weights"])
        own = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
        objective.generator.load_state_dict(own)
        source = pointer["weights"]
    dev = select_device(device)
    ctx = prepare_objective(objective, dev, precision=cfg.train.precision).ctx
    ds = run_dataset(cfg, split, objective.dataset_target)
    loader = eval_loader(ds, batch_size or cfg.train.batch_size, distributed.DistInfo(), 0, dev.type == "cuda")
    metrics = write_evidence(objective, loader, ctx, evidence_dir(run_dir, split, weights_from), salt=TEST_SALT,
                             seed=cfg.run.seed, split=split, save_predictions=save_predictions)
    result = {"split": split, "weights": source, "samples": len(ds), **metrics}
    write_text_atomic(run_dir / f"eval_{split}{tag}.json", json.dumps(result, indent=1))
    return metrics
