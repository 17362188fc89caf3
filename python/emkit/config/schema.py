"""The engine's own configuration: top-level run options and the ``train`` section.

Plugin options live in each plugin's ``Config`` (sections ``generator``, ``pretext``,
``task``, ``data``); these dataclasses hold everything the engine itself reads.
Every field is a CLI key: ``seed=1``, ``train.epochs=5`` (``epochs=5`` works too).
Every number declares its valid range beside its default (``ranged``, see ranges.py).
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional

from emkit.config.ranges import INT64_MAX, ranged

#: Learning rate of a pretext/task whose config names none.
DEFAULT_LR = 2e-4


@dataclasses.dataclass
class TrainConfig:
    """Loop, optimisation and logging settings shared by pretexts and tasks."""

    epochs: int = ranged(2, 1, 1_000_000)
    #: Optimisation steps per epoch; None = one pass over the training split.
    steps_per_epoch: Optional[int] = ranged(None, 1, 1_000_000_000)
    batch_size: int = ranged(8, 1, 65536)
    #: Learning rate; None = the pretext's/task's own ``lr``. Resolution settles both to
    #: the value used, so config.yaml shows it in ``train.lr`` and in the plugin section.
    lr: Optional[float] = ranged(None, 0.0, 10.0, exclusive_min=True)
    #: "constant", "linear" (constant for the first half, then linear decay to 0, as in
    #: pix2pix) or "cosine".
    schedule: Literal["constant", "linear", "cosine"] = "linear"
    #: Largest gradient norm; None = no clipping.
    grad_clip: Optional[float] = ranged(None, 0.0, 1e6, exclusive_min=True)
    #: Parts of the generator to freeze while fine-tuning ("encoder") or None.
    freeze: Optional[Literal["encoder", "none"]] = None
    #: Learning-rate multiplier for the generator body (head keeps 1.0) when fine-tuning.
    body_lr_mult: float = ranged(1.0, 0.0, 1000.0)
    #: "auto" = CUDA when usable, else CPU; or "cpu", "cuda", "cuda:1".
    device: str = "auto"
    #: "auto" = bf16 autocast on CUDA, fp32 on CPU.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    compile: bool = False
    channels_last: Optional[bool] = None
    num_workers: int = ranged(0, 0, 1024)
    #: Batches used for validation each epoch; None = the whole validation split.
    val_batches: Optional[int] = ranged(None, 1, 1_000_000_000)
    #: Save a checkpoint every N steps (besides every epoch); None = only every epoch.
    checkpoint_every: Optional[int] = ranged(None, 1, 1_000_000_000)
    log_every: int = ranged(10, 1, 1_000_000_000)
    deterministic: bool = False


@dataclasses.dataclass
class RunConfig:
    """Top-level keys of ``emkit run``."""

    #: Run name; default ``<timestamp>-<pretext|task>-<generator>``.
    name: Optional[str] = None
    runs_dir: str = "runs"
    seed: int = ranged(0, 0, INT64_MAX)
    #: Continue a killed run: path of its run directory.
    resume: Optional[str] = None
    #: Initial generator weights for fine-tuning: "random", a pretext run dir, or a
    #: generator.safetensors file.
    init: str = "random"
    #: Named bundle of settings applied under the command line (e.g. "paper").
    preset: Optional[str] = None
    #: "none" runs in this process; "torchrun" relaunches under torchrun with `devices`.
    launcher: Literal["none", "torchrun"] = "none"
    devices: int = ranged(1, 1, 1024)
    logger: Literal["csv", "tensorboard"] = "csv"
    #: Epochs after which the test split is evaluated (the paper uses 5, 30, 60); each
    #: must be within ``train.epochs`` (checked during resolution).
    eval_epochs: list[int] = ranged(lo=1, hi=1_000_000, default_factory=list)
    #: Degradation-op implementation: "auto" (native kernels, self-checked on first use on
    #: a GPU, else the pure-torch reference), "native" or "reference"; see emkit.ops.dispatch.
    #: "auto" defers to the EMKIT_OPS environment variable when it is set.
    ops: Literal["auto", "native", "reference"] = "auto"


#: Sections that select a plugin (``generator=hrnet``) and the registry kind behind each.
PLUGIN_SECTIONS: dict[str, str] = {
    "generator": "generator",
    "pretext": "pretext",
    "task": "task",
    "data": "data",
}
