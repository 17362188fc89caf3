"""The two benchmark tasks: their data (exported once for every tool) and their scoring.

Each ``TaskSpec`` names an emkit task on an emkit synthetic dataset. ``export`` renders the
exact train/val/test samples emkit's own runs use (same dataset plugin, same config, so
sample ``i`` of each split is identical) and writes them as ``.npy`` arrays for the peer
drivers. ``score`` turns a peer's test predictions into emkit's metrics by calling
the emkit task's own ``prepare_eval_batch`` and ``metrics`` and averaging per image, which
is what emkit's test evaluation does (``engine.trainer.evaluate``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    key: str                 # short name used in folders and tables
    title: str               # table caption
    task: str                # emkit task plugin
    data: str                # emkit dataset plugin
    size: int                # image side
    crop: int                # emkit training crop (task.crop)
    metric: str              # emkit metric reported (test_<metric>)
    higher_is_better: bool
    peer: str                # "care" | "atomai"
    data_seed: int = 0       # the synthetic data's seed (another seed: other images in every split)

    def data_overrides(self, n_train: int, n_val: int, n_test: int) -> list[str]:
        seed = [f"data.seed={self.data_seed}"] if self.data_seed else []
        return [f"data={self.data}", f"data.size={self.size}", f"data.length={n_train}",
                f"data.val_length={n_val}", f"data.test_length={n_test}", *seed]

    def cached(self, n_train: int, n_val: int, n_test: int) -> list[str]:
        """Data overrides for training: rendered once and kept in memory, like the peers' arrays."""
        return [*self.data_overrides(n_train, n_val, n_test), _cache_override(self.data)]


TASKS = {
    "stem": TaskSpec("stem", "STEM noise+background removal (synthetic-stem), test L1 (lower is better)",
                     "background-removal", "synthetic-stem", 128, 64, "l1", False, "care"),
    "hrtem": TaskSpec("hrtem", "HRTEM nanoparticle segmentation (synthetic-hrtem), test Dice (higher is better)",
                      "segmentation", "synthetic-hrtem", 128, 128, "dice", True, "atomai"),
}


def _cache_override(data: str) -> str:
    """``data.cache=true`` (bool option) or ``data.cache=memory`` (emkit with cache modes)."""
    from emkit.config import resolve
    from emkit.errors import EmkitError

    for value in ("memory", "true"):
        try:
            resolve(["task=segmentation", f"data={data}", f"data.cache={value}"], [])
            return f"data.cache={value}"
        except (EmkitError, ValueError, TypeError):
            continue
    return "data.cache=true"


def _resolve(spec: TaskSpec, n_train: int, n_val: int, n_test: int):
    from emkit.config import resolve

    return resolve([f"task={spec.task}", "generator=unet", *spec.data_overrides(n_train, n_val, n_test)], [])


def _task_and_target(spec: TaskSpec, cfg):
    from emkit import registry

    task = registry.load("task", spec.task)(cfg.plugin_config("task"))
    return task, getattr(task, "dataset_target", None)


def _dataset(cfg, split: str, target: str | None):
    """The split exactly as an emkit run builds it (same plugin, config and target)."""
    from emkit.data.build import build_dataset

    return build_dataset(cfg.plugin_name("data"), cfg.plugin_config("data"), split, target)


def _stack(ds) -> dict[str, torch.Tensor]:
    samples = [ds[i] for i in range(len(ds))]
    return {k: torch.stack([s[k] for s in samples]) for k in samples[0] if isinstance(samples[0][k], torch.Tensor)}


def _label_key(spec: TaskSpec) -> str:
    return "mask" if spec.task == "segmentation" else "target"


def export(spec: TaskSpec, out: Path, n_train: int, n_val: int, n_test: int) -> Path:
    """Write ``{train,val,test}_{x,y}.npy`` under ``out``; returns ``out``."""
    from emkit.plugin_api.image_space import to_unit

    done = out / "exported.txt"
    stamp = f"{spec} {n_train} {n_val} {n_test}"
    if done.exists() and done.read_text() == stamp:
        return out
    out.mkdir(parents=True, exist_ok=True)
    cfg = _resolve(spec, n_train, n_val, n_test)
    _, target = _task_and_target(spec, cfg)
    key = _label_key(spec)
    for split in ("train", "val", "test"):
        batch = _stack(_dataset(cfg, split, target))
        x = to_unit(batch["image"])[:, 0].numpy().astype(np.float32)
        y = batch[key][:, 0].numpy()
        y = y.astype(np.uint8) if key == "mask" else to_unit(batch[key])[:, 0].numpy().astype(np.float32)
        np.save(out / f"{split}_x.npy", x)
        np.save(out / f"{split}_y.npy", y)
    done.write_text(stamp)
    return out


def score(spec: TaskSpec, prediction: np.ndarray, n_train: int, n_val: int, n_test: int) -> dict[str, float]:
    """emkit's test metrics of a peer's predictions of the test images.

    ``prediction`` is (N, H, W): restored images in [0, 1] for restoration, particle
    probabilities for segmentation (turned into logits, so emkit's sigmoid > threshold
    sees exactly ``p > threshold``).
    """
    from emkit.plugin_api.image_space import to_model

    cfg = _resolve(spec, n_train, n_val, n_test)
    task, target = _task_and_target(spec, cfg)
    batch = _stack(_dataset(cfg, "test", target))
    prepared = task.prepare_eval_batch(batch, None)
    pred = torch.from_numpy(np.ascontiguousarray(prediction, dtype=np.float32))[:, None]
    if pred.shape[-2:] != prepared["input"].shape[-2:] or pred.shape[0] != prepared["input"].shape[0]:
        raise ValueError(f"{spec.key}: prediction shape {tuple(pred.shape)} does not match the test set "
                         f"{tuple(prepared['input'].shape)}")
    if spec.task == "segmentation":
        p = pred.clamp(1e-6, 1 - 1e-6)
        model_out = torch.log(p) - torch.log1p(-p)
    else:
        model_out = to_model(pred)
    with torch.no_grad():
        metrics = task.metrics(model_out, prepared)
    return {k: float(v.double().mean()) for k, v in metrics.items()}


def reference_predictors(spec: TaskSpec, data_dir: Path, n_train: int, n_val: int, n_test: int) -> dict[str, float]:
    """The metric of trivial predictions: what a model that learned nothing yet would score.

    Restoration: returning the input, a constant mid-grey 0.5 (what a generator whose output
    is ~0 in emkit's 2x-1 space returns), and a constant equal to the training targets' mean
    (what a model trained on standardised targets returns at zero output, as CARE's does).
    Segmentation: every pixel particle, and every pixel background.
    """
    test_x = np.load(data_dir / "test_x.npy")
    if spec.task == "segmentation":
        preds = {"every pixel particle": np.ones_like(test_x), "every pixel background": np.zeros_like(test_x)}
    else:
        mean = float(np.load(data_dir / "train_y.npy").mean())
        preds = {"returning the input (identity)": test_x, "constant 0.5 (zero output in emkit's 2x-1 space)":
                 np.full_like(test_x, 0.5), f"constant = training-target mean ({mean:.3f})": np.full_like(test_x, mean)}
    return {name: score(spec, p, n_train, n_val, n_test)[spec.metric] for name, p in preds.items()}
