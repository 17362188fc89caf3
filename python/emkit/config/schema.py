"""The engine's own configuration: top-level run options and the ``train`` section.

Plugin options live in each plugin's ``Config`` (sections ``generator``, ``pretext``,
``task``, ``data``); these dataclasses hold everything the engine itself reads.
Every field is a CLI key: ``seed=1``, ``train.epochs=5`` (``epochs=5`` works too).
Every number declares its valid range beside its default (``ranged``, see ranges.py).
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Optional, Union

from emkit.config.ranges import INT64_MAX, ranged

#: Learning rate of a pretext/task whose config names none.
DEFAULT_LR = 2e-4


@dataclasses.dataclass
class TrainConfig:
    """Loop, optimisation and logging settings shared by pretexts and tasks."""

    epochs: int = ranged(2, 1, None)
    #: Optimisation steps per epoch; None = one pass over the training split. More steps
    #: than one pass repeat the (reshuffled) split, so validation/checkpoints stay per epoch.
    steps_per_epoch: Optional[int] = ranged(None, 1, None)
    batch_size: int = ranged(8, 1, 65536)
    #: Learning rate; None = the pretext's/task's own ``lr``. Resolution settles both to
    #: the value used, so config.yaml shows it in ``train.lr`` and in the plugin section.
    lr: Optional[float] = ranged(None, 0.0, 10.0, exclusive_min=True)
    #: "constant", "linear" (constant for the first half, then linear decay to 0, as in
    #: pix2pix) or "cosine".
    schedule: Literal["constant", "linear", "cosine"] = "linear"
    #: Linear learning-rate warm-up over this fraction of all steps; None = 0.05 for
    #: downstream tasks (fine-tuning stays near the pretrained solution), 0 for pretexts.
    warmup: Optional[float] = ranged(None, 0.0, 1.0, exclusive_max=True)
    #: Downstream: train only the generator's output head for this many steps (body rate 0),
    #: then the body joins with its own warm-up.
    head_first_steps: int = ranged(0, 0, None)
    #: Downstream BatchNorm statistics: "frozen" (eval mode) or "update"; None = update from
    #: random init, else the task's ``pretrained_norm_stats`` (engine/init/norm_stats.py). A
    #: downstream run's config.yaml records the value that ran.
    norm_stats: Optional[Literal["frozen", "update"]] = None
    #: Keep the best-by-validation generator in best/ ("val_dice", "val_l1", ...); None = off.
    keep_best: Optional[str] = None
    #: Largest gradient norm; None = no clipping.
    grad_clip: Optional[float] = ranged(None, 0.0, None, exclusive_min=True)
    #: Parts of the generator to freeze while fine-tuning: "encoder", or "body" (everything
    #: but the output head, BatchNorm statistics included: the frozen-feature probe) or None.
    freeze: Optional[Literal["encoder", "body", "none"]] = None
    #: Learning-rate multiplier for the generator body (head keeps 1.0) when fine-tuning.
    body_lr_mult: float = ranged(1.0, 0.0, 1000.0)
    #: "auto" = CUDA when usable, else CPU; or "cpu", "cuda", "cuda:1".
    device: str = "auto"
    #: "auto" = bf16 autocast on CUDA, fp32 on CPU.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    compile: bool = False
    #: NHWC memory format for the networks; None = auto (on for CPU and CUDA, see
    #: emkit.engine.runtime.devices.channels_last_default), recorded as true/false in config.yaml.
    channels_last: Optional[bool] = None
    num_workers: int = ranged(0, 0, 1024)
    #: Batches used for validation each epoch; None = the whole validation split.
    val_batches: Optional[int] = ranged(None, 1, None)
    #: Save a checkpoint every N steps (besides every epoch); None = only every epoch.
    checkpoint_every: Optional[int] = ranged(None, 1, None)
    log_every: int = ranged(10, 1, None)
    deterministic: bool = False


@dataclasses.dataclass
class PretrainConfig:
    """``init=self``: the pretext stage run on the task's own training images before
    fine-tuning (engine/launch/self_pretrain.py). Keys ``pretrain.<field>``."""

    #: Extra unlabeled sources pooled with the task's training images, as ``data=mix``
    #: sources: "synthetic-cem", "folder:/data/x" or {name: folder, root: /data/x}.
    data: list[Union[str, dict]] = dataclasses.field(default_factory=list)
    #: Relative frequency of the task's images and of each extra source; empty = equal.
    weights: list[float] = ranged(lo=0.0, hi=None, default_factory=list)
    #: Optimisation steps of the pretext stage; None = scaled to the number of images.
    steps: Optional[int] = ranged(None, 1, None)
    #: The pretext of the stage: a name, or its options (``pretrain.pretext.crop=64``).
    pretext: Union[str, dict] = "pix2pix"


@dataclasses.dataclass
class RunConfig:
    """Top-level keys of ``emkit run``."""

    #: Run name; default ``<timestamp>-<pretext|task>-<generator>``.
    name: Optional[str] = None
    runs_dir: str = "runs"
    seed: int = ranged(0, 0, INT64_MAX)
    #: Continue a killed run: path of its run directory.
    resume: Optional[str] = None
    #: Initial generator weights for fine-tuning: "random", a pretext run dir, a
    #: generator.safetensors file, or "self" (pretrain on the task's own images first).
    init: str = "random"
    #: Name of the init source in `emkit compare` (default: the pretraining run's folder name).
    init_label: Optional[str] = None
    #: The pretext stage of init=self.
    pretrain: PretrainConfig = dataclasses.field(default_factory=PretrainConfig)
    #: Named bundle of settings applied under the command line (e.g. "paper").
    preset: Optional[str] = None
    #: "none" runs in this process; "torchrun" relaunches under torchrun with `devices`.
    launcher: Literal["none", "torchrun"] = "none"
    #: Processes per machine with launcher=torchrun (torchrun --nproc_per_node).
    devices: int = ranged(1, 1, 1024)
    #: Machines of a launcher=torchrun run (torchrun --nnodes); run the same command on each.
    nodes: int = ranged(1, 1, 100_000)
    #: "host:port" of the rendezvous every machine joins when nodes > 1 (torchrun --rdzv_endpoint).
    rdzv_endpoint: Optional[str] = None
    #: Seconds to wait for the rendezvous: reaching its host and every machine joining.
    rdzv_timeout: int = ranged(600, 1, 1_000_000)
    #: Times torchrun restarts the processes after one fails; each restart resumes the run folder.
    max_restarts: int = ranged(0, 0, 1_000_000)
    logger: Literal["csv", "tensorboard"] = "csv"
    #: Epochs after which the test split is evaluated (the paper uses 5, 30, 60); each
    #: must be within ``train.epochs`` (checked during resolution).
    eval_epochs: list[int] = ranged(lo=1, hi=None, default_factory=list)
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
