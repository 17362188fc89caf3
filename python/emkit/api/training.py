"""``emkit.train``, ``emkit.sweep`` and ``emkit.evaluate``: what ``emkit run/sweep/eval`` do, from Python.

The same configuration (keys, layers, validation, did-you-mean errors), the same run
folders and the same engine as the CLI -- the CLI's commands are thin callers of these
functions. In-memory arrays are written as a dataset folder first (``emkit.data.arrays``)
under ``<runs_dir>/.arrays/<hash>/`` and read back by the built-in ``mask-folder`` /
``paired-folder`` datasets, so a run trained from arrays resumes, evaluates and sweeps
like any other (its config.yaml names that folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

from emkit.api.run import Run
from emkit.api.settings import config_files, to_overrides
from emkit.errors import ConfigError, DataError

#: Sub-folder of ``runs_dir`` holding datasets written from in-memory arrays.
ARRAYS_DIR = ".arrays"


def _requested(items: list[str], files: list[str], key: str) -> Any:
    """What the user asked for ``key`` (command-line words and config files, before resolution)."""
    from emkit.config.layering import read_layers

    value = read_layers(items, files).merged().get(key)
    return value.get("name") if isinstance(value, dict) else value


def _task_kind(items: list[str], files: list[str]) -> str:
    """``mask`` or ``target``: what the chosen task learns from (one error when no task is chosen)."""
    from emkit import registry
    from emkit.data.arrays import partner_kind

    task = _requested(items, files, "task")
    if not task:
        raise ConfigError("images= needs a downstream task (task=segmentation, denoise, background-removal, "
                          "super-resolution, ...): in-memory arrays are labelled data")
    target = registry.load("task", str(task)).dataset_target
    if target not in ("segmentation", "denoise", "background-removal", "super-resolution"):
        raise ConfigError(f"task={task} learns from {target!r} targets; in-memory arrays support segmentation "
                          "masks and restoration targets -- write a dataset folder for this task instead")
    return partner_kind(target)


def array_overrides(items: list[str], files: list[str], arrays: dict[str, Any]) -> list[str]:
    """Write the arrays as a dataset folder; the ``data.*`` (and ``task.classes``) words that read it."""
    from emkit.data.arrays import content_root, write_array_dataset

    kind = _task_kind(items, files)
    partner_arg = "masks" if kind == "mask" else "targets"
    wrong_arg = "targets" if kind == "mask" else "masks"
    if arrays[wrong_arg] is not None:
        raise DataError(f"{wrong_arg}=: this task learns from {partner_arg}=, not {wrong_arg}=")
    if arrays[partner_arg] is None:
        raise DataError(f"images= needs {partner_arg}= (one per image) for this task")
    pairs = {split: _pair(arrays[split], split, partner_arg) for split in ("val", "test")}
    runs_dir = _requested(items, files, "runs_dir") or "runs"
    root = content_root(Path(runs_dir) / ARRAYS_DIR, arrays["images"], arrays[partner_arg],
                        *(p for pair in pairs.values() for p in (pair or (None, None))),
                        extra=f"{kind} patch={arrays['patch']} labels={arrays['label_mode']}")
    written = write_array_dataset(root, kind, arrays["images"], arrays[partner_arg], val=pairs["val"],
                                  test=pairs["test"], patch=arrays["patch"], label_mode=arrays["label_mode"],
                                  names=("images", partner_arg))
    words = written.overrides()
    if kind == "mask" and written.classes > 2 and _requested_leaf(items, files, "task", "classes") is None:
        words.append(f"task.classes={written.classes}")
    if written.patch and _requested_leaf(items, files, "task", "crop") is None:
        words.append(f"task.crop={written.patch}")  # patches are the training crops
    return words


def _requested_leaf(items: list[str], files: list[str], section: str, key: str) -> Any:
    """A key of a section as the user gave it (``task.crop=32`` or ``task={"crop": 32}``), else None."""
    from emkit.config.layering import read_layers

    value = read_layers(items, files).merged().get(section)
    return value.get(key) if isinstance(value, dict) else None


def _pair(value: Any, split: str, partner: str) -> Optional[tuple[Any, Any]]:
    """``val=``/``test=`` as an (images, partners) pair: a 2-tuple or a mapping with both keys."""
    if value is None:
        return None
    if isinstance(value, dict):
        if "images" not in value or partner not in value:
            raise DataError(f"{split}=: expected {{'images': ..., '{partner}': ...}}, got keys {sorted(value)}")
        return value["images"], value[partner]
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise DataError(f"{split}=: expected (images, {partner}) or {{'images': ..., '{partner}': ...}}")


def train(*overrides: str, config: Any = None, images: Any = None, targets: Any = None, masks: Any = None,
          val: Any = None, test: Any = None, patch: Optional[int] = None, label_mode: str = "foreground",
          callbacks: Sequence[Any] = (), progress: bool = True, **settings: Any) -> Optional[Run]:
    """Train as ``emkit run`` does and return the ``Run`` (``None`` after a ``launcher=torchrun`` relaunch).

    Settings: ``key=value`` strings and/or keywords (``task="segmentation"``,
    ``train={"epochs": 20}``, ``seed=1``, ``init="self"``, ``resume="runs/x"``); ``config``:
    YAML file(s). Data: a dataset plugin (``data="au-hdf5", data={"root": ...}``) or arrays:
    ``images`` with ``masks`` (segmentation) or ``targets`` (restoration), optional ``val``
    and ``test`` as ``(images, masks|targets)`` pairs, ``patch`` to cut large images into
    square patches, ``label_mode`` ``foreground`` (labels > 0 are the object) or ``classes``.
    ``callbacks`` follow ``emkit.Callback``; ``progress`` shows the progress line.
    """
    from emkit.engine.launch.start import launch
    from emkit.engine.runtime.stop import TrainingInterrupted

    items = to_overrides(overrides, settings)
    files = config_files(config)
    arrays = {"images": images, "targets": targets, "masks": masks, "val": val, "test": test, "patch": patch,
              "label_mode": label_mode}
    if images is not None:
        items = [*array_overrides(items, files, arrays), *items]
    elif any(v is not None for v in (targets, masks, val, test)):
        raise DataError("targets=, masks=, val= and test= go with images=; without images= the data come from "
                        "a dataset plugin (data=...)")
    try:
        out = launch(items, files, callbacks=list(callbacks), show_progress=progress)
    except TrainingInterrupted as stopped:
        if stopped.run_dir is None:
            raise
        return Run.open(stopped.run_dir, stopped=True, stop_reason=str(stopped))
    return None if out is None else Run.open(out)


def sweep(*overrides: str, name: str = "sweep", runs_dir: str = "runs", config: Any = None,
          **settings: Any) -> list[Run]:
    """``emkit sweep``: every combination of comma-separated values, resumably; the runs in order."""
    from emkit.engine.launch.sweep import sweep as run_sweep

    items = to_overrides(overrides, settings)
    return [Run.open(p) for p in run_sweep(items, config_files(config), name=name, runs_dir=runs_dir)]


def evaluate(run: str | Path | Run, *, split: str = "test", device: str = "auto", batch_size: Optional[int] = None,
             weights: str = "final", save_predictions: bool = False) -> dict[str, float]:
    """``emkit eval``: mean metrics of the run's generator on ``split`` (per-image CSV written too)."""
    from emkit.engine.evaluation.evaluate_run import evaluate_run

    path = run.path if isinstance(run, Run) else Path(run)
    return evaluate_run(path, split=split, device=device, batch_size=batch_size, weights_from=weights,
                        save_predictions=save_predictions)


def evidence_dir(run: str | Path | Run, split: str = "test", weights: str = "final") -> Path:
    """Where ``evaluate`` wrote its per-image CSV and predictions."""
    from emkit.engine.evaluation.per_image import evidence_dir as folder

    return folder(run.path if isinstance(run, Run) else Path(run), split, weights)
