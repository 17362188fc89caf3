"""The training loop shared by pretexts and tasks.

One call of ``train(cfg)``, in named steps: ``setup_runtime`` (devices, DDP,
determinism), ``start_run`` (objective, data, run directory, optimizers, resume from the
newest checkpoint when ``resume=`` names a run), then per epoch ``train_epoch`` (steps
with logging and checkpoints every ``train.checkpoint_every`` steps) and ``end_epoch``
(validation, test evaluation at ``eval_epochs``, sample grids, checkpoint); finally
``finish_run`` exports ``generator.safetensors`` + ``generator.json``. ``start_run`` also
records the training inputs' statistics (``input_stats.json``, rank 0) for prediction's
out-of-distribution check.

Determinism: the data order depends only on (seed, epoch), every random choice inside a
step is seeded by (seed, rank, step), and the learning rate is a pure function of the
step, so a run killed and resumed from a checkpoint ends with the same weights as an
uninterrupted one (CPU, ``train.deterministic=true``). A checkpoint records the position
in the epoch's global item order (``loop/position``), so a run can also resume with
another number of processes.

Several processes (torchrun): the ranks' resolved configs are compared before training
(``runtime/agreement``), a stop request (signal or callback) is agreed by all ranks before
anyone checkpoints, and a peer lost during a collective ends every surviving rank with
one ``DistributedError`` line (``runtime/distributed.lost_peers``).

Callbacks (``emkit.engine.loop.callbacks``, the public protocol behind ``emkit.Callback``)
observe the run -- start, every step, every evaluated split, every epoch, the end, and
the lines meant for the user -- and can stop it; the terminal progress line is one of
them (``progress_line``). The loop itself has no test hooks.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from emkit.config import ResolvedConfig
from emkit.engine.loop import data_settings
from emkit.engine.runs import checkpoint, keep_best, run_dir as run_dirs
from emkit.engine.loop import position
from emkit.engine.runtime import agreement, distributed, elastic
from emkit.engine.loop.callbacks import (EndInfo, EpochInfo, EvalInfo, StartInfo, StepInfo, check_callbacks,
                                         notify)
from emkit.engine.runtime.devices import channels_last_default, select_device
from emkit.engine.evaluation.split_metrics import TEST_SALT, VAL_SALT, eval_loader, evaluate, make_loader, set_train_mode, to_device
from emkit.engine.init.norm_stats import norm_stats_mode
from emkit.engine.runs.metrics_log import MetricsLog
from emkit.engine.loop.objective_setup import build_objective, prepare_objective
from emkit.engine.init.output_prior import apply_output_prior
from emkit.engine.loop.task_adapter import TaskObjective
from emkit.engine.runtime.sampling import EpochPlan, ShardedEpochSampler
from emkit.engine.loop.run_datasets import check_data, run_dataset
from emkit.engine.loop.data_settings import warn_if_short
from emkit.data.grids import save_grid
from emkit.engine.loop.schedule import apply_lr
from emkit.engine.runtime.sampling import step_seed
from emkit.engine.runtime.stop import StopRequest, TrainingInterrupted
from emkit.engine.runs.weights import export_generator
from emkit.data.input_stats import STATS_FILE, write_stats
from emkit.errors import DataError, EmkitError, print_warning
from emkit.models import generator_spec
from emkit.ops import ops_summary, set_ops_mode
from emkit.plugin_api import Objective, StepContext


@dataclasses.dataclass
class Runtime:
    """Where the run executes: process group, device and memory format."""

    dist_info: distributed.DistInfo
    device: torch.device
    channels_last: bool


@dataclasses.dataclass
class TrainRun:
    """Everything one training run holds; the named steps below read and advance it."""

    cfg: ResolvedConfig
    rt: Runtime
    objective: Objective
    optimizers: dict[str, torch.optim.Optimizer]
    ctx: StepContext
    train_ds: Any
    val_ds: Any
    out: Path
    sampler: ShardedEpochSampler
    #: Steps of an epoch started from its first item, and the layout they are planned for.
    steps_per_epoch: int
    layout: position.Layout
    val_loader: Any
    metrics: MetricsLog | None
    callbacks: list[Any] = dataclasses.field(default_factory=list)
    #: Finished optimisation steps; the epoch and the batch within it to start from.
    step: int = 0
    epoch: int = 0
    start_epoch: int = 0
    start_in_epoch: int = 0
    #: The plan of a resumed epoch (None: the first epoch starts fresh); the current plan
    #: and the batches of its epoch done so far.
    first_plan: EpochPlan | None = None
    plan: EpochPlan | None = None
    epoch_step: int = 0
    #: Samples trained so far (all ranks); optimisation steps the run plans in all; the
    #: schedule's step offset after a resume with another global batch (loop/position).
    samples: int = 0
    total: int = 0
    lr_offset: float = 0
    #: Lines to show when the run starts (e.g. the head-bias prior that was applied).
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def dist_info(self) -> distributed.DistInfo:
        return self.rt.dist_info

    @property
    def stage(self) -> str:
        """``pretext`` (a pretext run, e.g. the first stage of ``init=self``) or ``task``."""
        return "pretext" if self.cfg.plugin_name("pretext") else "task"

    def say(self, text: str) -> None:
        """A line for the user: the callbacks' ``on_message`` on rank 0."""
        if self.dist_info.is_main:
            notify(self.callbacks, "on_message", text)

    @property
    def total_steps(self) -> int:
        return self.total

    @property
    def pin(self) -> bool:
        return self.rt.device.type == "cuda"

    def save(self, steps_done: int, finished: bool = False) -> None:
        """Checkpoint (rank 0) after ``steps_done`` steps of the current plan; all ranks wait."""
        modules = self.objective.modules()
        for module in modules.values():
            distributed.sync_buffers(self.dist_info, module)
        if self.dist_info.is_main:
            extra = position.checkpoint_extra(self.layout, self.plan, epoch_step=self.epoch_step, steps_done=steps_done,
                                              finished=finished, samples=self.samples)
            checkpoint.save_checkpoint(self.out / "checkpoints", step=self.step, modules=modules,
                                       optimizers=self.optimizers, extra=extra)
        distributed.barrier(self.dist_info)


# ---------------------------------------------------------------- setup -----------------
def setup_runtime(cfg: ResolvedConfig) -> Runtime:
    """Join the process group, pick the device and the determinism/TF32 settings."""
    preliminary = select_device(cfg.train.device, 0) if cfg.train.device != "auto" else None
    device_type = preliminary.type if preliminary else ("cuda" if torch.cuda.is_available() else "cpu")
    dist_info = distributed.init(device_type)
    device = select_device(cfg.train.device, dist_info.local_rank)
    set_ops_mode(cfg.run.ops)  # emkit.ops.dispatch: which degradation-op implementation runs
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if cfg.train.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if cfg.train.channels_last is None:  # auto, recorded in config.yaml as what ran
        cfg.train.channels_last = channels_last_default(device)
        cfg.refresh_tree()
    agreement.check_same_config(dist_info, cfg.tree)
    return Runtime(dist_info, device, cfg.train.channels_last)


def open_run_dir(cfg: ResolvedConfig, dist_info: distributed.DistInfo, resume_dir: str | Path | None) -> Path:
    """The run directory: ``resume_dir``, or a new one rank 0 creates and broadcasts."""
    if resume_dir is not None:
        out: Path | None = Path(resume_dir)
    elif dist_info.is_main:
        out = run_dirs.create(cfg)
        elastic.mark(out)  # under torchrun: a restarted worker group finds its folder again
    else:
        out = None
    return Path(distributed.broadcast_object(dist_info, str(out) if out else None))


def plan_epochs(cfg: ResolvedConfig, train_ds: Any, dist_info: distributed.DistInfo,
                out: Path) -> tuple[ShardedEpochSampler, int, position.Layout]:
    """The sharded train sampler, the steps of an epoch (settled with the data and recorded
    in the run directory by rank 0) and the layout they are planned for."""
    bs, world = cfg.train.batch_size, dist_info.world_size
    per_pass = len(train_ds) // (bs * world)
    if per_pass == 0:
        raise DataError(
            f"The train split has {len(train_ds)} samples, fewer than one global batch of {bs * world} "
            f"(train.batch_size={bs} x {world} process(es)); lower train.batch_size or add data"
        )
    steps = data_settings.settle_with_data(cfg, train_ds, per_pass, out if dist_info.is_main else None)
    sampler = ShardedEpochSampler(len(train_ds), rank=dist_info.rank, world_size=world, batch_size=bs,
                                  seed=cfg.run.seed)
    return sampler, steps, position.Layout(len(train_ds), bs, world, cfg.train.steps_per_epoch)


def start_run(cfg: ResolvedConfig, rt: Runtime, resume_dir: str | Path | None,
              callbacks: Sequence[Any]) -> TrainRun:
    """Objective, datasets, run directory, optimizers, loaders and the metrics log."""
    objective = build_objective(cfg)
    if isinstance(objective, TaskObjective) and cfg.train.norm_stats is None:  # record what runs
        cfg.train.norm_stats = norm_stats_mode(cfg)
        cfg.refresh_tree()
    target = objective.dataset_target
    train_ds = run_dataset(cfg, "train", target)
    val_ds = run_dataset(cfg, "val", target)
    check_data(train_ds, objective, "train", cfg)
    if len(val_ds):
        check_data(val_ds, objective, "val", cfg)
    note = apply_output_prior(objective.task, objective.generator, train_ds, cfg) \
        if isinstance(objective, TaskObjective) else None
    out = open_run_dir(cfg, rt.dist_info, resume_dir)
    if rt.dist_info.is_main and not (out / STATS_FILE).exists():  # what predict compares new images with
        write_stats(out, train_ds, source=f"{cfg.plugin_name('data')} (train split)")
    if resume_dir is not None and rt.dist_info.is_main:
        run_dirs.record_train_settings(out, {"channels_last": cfg.train.channels_last,
                                             "norm_stats": cfg.train.norm_stats})
    prepared = prepare_objective(objective, rt.device, precision=cfg.train.precision, ddp=rt.dist_info.enabled,
                                 compile_=cfg.train.compile, channels_last=rt.channels_last,
                                 grad_clip=cfg.train.grad_clip)
    sampler, steps_per_epoch, layout = plan_epochs(cfg, train_ds, rt.dist_info, out)
    val_loader = eval_loader(val_ds, cfg.train.batch_size, rt.dist_info, cfg.train.num_workers,
                             rt.device.type == "cuda")
    metrics = MetricsLog(out / "metrics.csv",
                         tensorboard_dir=(out / "tensorboard") if cfg.run.logger == "tensorboard" else None) \
        if rt.dist_info.is_main else None
    return TrainRun(cfg, rt, objective, prepared.optimizers, prepared.ctx, train_ds, val_ds, out, sampler,
                    steps_per_epoch, layout, val_loader, metrics, callbacks=list(callbacks),
                    notes=[note] if note else [], total=steps_per_epoch * cfg.train.epochs)


def restore(run: TrainRun) -> None:
    """Continue from the newest checkpoint in the run directory, if there is one (with none,
    rows a killed first attempt logged are dropped)."""
    state = checkpoint.load_checkpoint(run.out / "checkpoints", modules=run.objective.modules(),
                                       optimizers=run.optimizers)
    if state is None:
        if run.metrics is not None:
            run.metrics.truncate_after(0)
        return
    run.step = state["step"]
    point = position.resume_point(state, run.step, run.layout)
    run.start_epoch, run.first_plan, run.start_in_epoch = point.epoch, point.plan, point.epoch_step
    run.samples = point.samples
    run.lr_offset = position.lr_offset(point.samples, run.step, run.layout.global_batch)
    later = run.cfg.train.epochs - point.epoch - (1 if point.plan is not None else 0)
    run.total = run.step + (point.plan.steps if point.plan is not None else 0) + max(0, later) * run.steps_per_epoch
    if point.note and run.dist_info.is_main:
        print_warning(point.note)
    if run.metrics is not None:
        run.metrics.truncate_after(run.step)


def announce(run: TrainRun) -> None:
    """Say where the run starts (``on_message``), then ``on_start``."""
    lines: list[str] = []
    warn_if_short(lines.append, run.total_steps, run.steps_per_epoch, run.cfg.train.epochs)
    lines += run.notes if not run.step else []  # a resumed run restored its trained bias
    if not len(run.val_ds):
        lines.append("warning: the validation split is empty; no validation metrics will be logged")
    if run.step:
        lines.append(f"resuming {run.out} at step {run.step} (epoch {run.start_epoch + 1}, batch {run.start_in_epoch})")
    else:
        lines.append(f"run directory: {run.out}")
    for line in lines:
        run.say(line)
    stop = notify(run.callbacks, "on_start", StartInfo(
        run.out, run.stage, run.step, run.dist_info.rank, total_steps=run.total_steps, epochs=run.cfg.train.epochs,
        steps_per_epoch=run.steps_per_epoch, world_size=run.dist_info.world_size, notes=tuple(lines)))
    if stop:
        raise TrainingInterrupted(f"stopped by a callback before step {run.step + 1}; "
                                  f"continue with: emkit run resume={run.out}", run.out)


# ---------------------------------------------------------------- steps -----------------
class StepWindow:
    """Loss sums, images and data time over the steps since the last logged row."""

    def __init__(self) -> None:
        self.losses: dict[str, float] = {}
        self.steps, self.images, self.data_seconds = 0, 0, 0.0
        self.started = time.perf_counter()

    def add(self, losses: dict[str, float], images: int, step: int) -> None:
        for key, value in losses.items():
            if not math.isfinite(value):
                raise EmkitError(
                    f"Loss {key!r} became {value} at step {step}; the last checkpoint is kept. "
                    "Lower the learning rate or check the data for NaNs"
                )
            self.losses[key] = self.losses.get(key, 0.0) + value
        self.steps += 1
        self.images += images

    def row(self, lr: float) -> dict[str, float]:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        row = {k: v / self.steps for k, v in self.losses.items()}
        row.update(lr=lr, images_per_s=self.images / elapsed, data_time_frac=self.data_seconds / elapsed)
        return row


def train_step(run: TrainRun, batch: dict[str, Any], epoch: int) -> tuple[dict[str, float], float]:
    """One optimisation step at ``run.step``: seed, learning rate, the objective's step."""
    ctx = run.ctx
    ctx.step, ctx.epoch = run.step, epoch
    ctx.seed = step_seed(run.cfg.run.seed, run.dist_info.rank, run.step)
    ctx.data_seconds = 0.0
    lr = apply_lr(run.optimizers, run.cfg.train, run.step + run.lr_offset, run.total + run.lr_offset,
                  downstream=run.cfg.plugin_name("task") is not None)
    return run.objective.training_step(batch, ctx), lr


def log_window(run: TrainRun, window: StepWindow, epoch: int, lr: float) -> dict[str, float]:
    """Write the window's mean losses and throughput to metrics.csv; return the row."""
    row = window.row(lr)
    if run.metrics is not None:
        run.metrics.log("step", epoch + 1, run.step, row)
    return row


def step_done(run: TrainRun, epoch: int, row: dict[str, float], lr: float, stop: StopRequest) -> bool:
    """``on_step`` for the finished step; True when any rank's callback or signal asks to stop."""
    losses = {k: v for k, v in row.items() if k not in ("lr", "images_per_s", "data_time_frac")}
    info = StepInfo(run.out, run.stage, run.step, run.dist_info.rank, total_steps=run.total_steps, epoch=epoch + 1,
                    epochs=run.cfg.train.epochs, losses=losses, lr=lr, images_per_s=row.get("images_per_s"))
    wanted = notify(run.callbacks, "on_step", info) or stop.requested
    return distributed.any_rank(run.dist_info, wanted)


def train_epoch(run: TrainRun, epoch: int, stop: StopRequest) -> None:
    """The steps of ``epoch`` (from the resume point), with logging, callbacks and checkpoints."""
    cfg, bs = run.cfg, run.cfg.train.batch_size
    resumed = run.first_plan is not None and epoch == run.start_epoch
    run.plan = run.first_plan if resumed else run.layout.plan(epoch)
    skip = run.start_in_epoch if resumed else 0
    run.epoch_step = skip
    run.sampler.set_plan(run.plan)
    batches = iter(make_loader(run.train_ds, bs, run.sampler, cfg.train.num_workers, run.pin))
    window = StepWindow()
    for done in range(1, run.plan.steps + 1):
        last = done == run.plan.steps
        t0 = time.perf_counter()
        batch = to_device(next(batches), run.rt.device)
        window.data_seconds += time.perf_counter() - t0
        losses, lr = train_step(run, batch, epoch)
        window.data_seconds += run.ctx.data_seconds
        window.add(losses, batch["image"].shape[0] * run.dist_info.world_size, run.step)
        run.step += 1
        run.samples += run.layout.global_batch
        run.epoch_step = skip + done
        row: dict[str, float] = {}
        if run.step % cfg.train.log_every == 0 or last:
            row = log_window(run, window, epoch, lr)
            window = StepWindow()
        if step_done(run, epoch, row, lr, stop):  # agreed by every rank
            run.save(done)
            why = "interrupted" if stop.requested else "stopped by a callback"
            raise TrainingInterrupted(f"{why} at step {run.step}; checkpoint saved. "
                                      f"Continue with: emkit run resume={run.out}", run.out)
        if cfg.train.checkpoint_every and run.step % cfg.train.checkpoint_every == 0 and not last:
            run.save(done)


# ---------------------------------------------------------------- epoch end -------------
def epoch_metrics(run: TrainRun, epoch: int) -> tuple[dict[str, float], dict[str, Any] | None]:
    """``val_*`` (every epoch) and ``test_*`` (at ``eval_epochs``) metrics; the first val batch."""
    cfg = run.cfg
    val, first = ({}, None) if not len(run.val_ds) else evaluate(
        run.objective, run.val_loader, run.ctx, run.dist_info, VAL_SALT, cfg.train.val_batches, cfg.run.seed)
    row = {f"val_{k}": v for k, v in val.items()}
    if val:
        notify(run.callbacks, "on_eval", EvalInfo(run.out, run.stage, run.step, run.dist_info.rank, split="val",
                                                  epoch=epoch + 1, metrics=val))
    if (epoch + 1) in cfg.run.eval_epochs:
        test_ds = run_dataset(cfg, "test", run.objective.dataset_target)
        test_loader = eval_loader(test_ds, cfg.train.batch_size, run.dist_info, cfg.train.num_workers, run.pin)
        test, _ = evaluate(run.objective, test_loader, run.ctx, run.dist_info, TEST_SALT, None, cfg.run.seed)
        row.update({f"test_{k}": v for k, v in test.items()})
        notify(run.callbacks, "on_eval", EvalInfo(run.out, run.stage, run.step, run.dist_info.rank, split="test",
                                                  epoch=epoch + 1, metrics=test))
    return row, first


def save_samples(run: TrainRun, epoch: int, first: dict[str, Any]) -> None:
    """The sample grid of the first validation batch, ``samples/epoch_NNN.png``."""
    run.ctx.seed = step_seed(run.cfg.run.seed, 0, 0, VAL_SALT)
    with torch.no_grad():
        set_train_mode(run.objective, False)
        panels = run.objective.sample_panels(first, run.ctx)
        set_train_mode(run.objective, True)
    if panels:
        save_grid(run.out / "samples" / f"epoch_{epoch + 1:03d}.png", panels, first.get("source"))


def end_epoch(run: TrainRun, epoch: int) -> None:
    """Evaluation, metrics row, sample grid and the end-of-epoch checkpoint."""
    row, first = epoch_metrics(run, epoch)
    if run.metrics is not None:
        run.metrics.log("epoch", epoch + 1, run.step, {**row, "ops": ops_summary()})  # ops: which implementation ran
        keep_best.update_best(run.out, run.cfg, row, epoch=epoch + 1, step=run.step, generator=run.objective.generator)
        if first is not None:
            save_samples(run, epoch, first)
    run.say(f"epoch {epoch + 1}/{run.cfg.train.epochs}: " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()))
    notify(run.callbacks, "on_epoch", EpochInfo(run.out, run.stage, run.step, run.dist_info.rank, epoch=epoch + 1,
                                                epochs=run.cfg.train.epochs, metrics=row))
    run.save(run.plan.steps, finished=True)


# ---------------------------------------------------------------- finish ----------------
def finish_run(run: TrainRun, started: float) -> None:
    """Final weights on every rank, callbacks, then (rank 0) export and the summary."""
    for module in run.objective.modules().values():
        distributed.sync_buffers(run.dist_info, module)
    notify(run.callbacks, "on_end", EndInfo(run.out, run.stage, run.step, run.dist_info.rank,
                                            generator=run.objective.generator))
    if run.dist_info.is_main:
        cfg, generator = run.cfg, run.objective.generator
        spec = generator_spec(cfg.plugin_name("generator"), generator)
        spec["trained_with"] = {"pretext": cfg.plugin_name("pretext"), "task": cfg.plugin_name("task"),
                                "data": cfg.plugin_name("data"), "steps": run.step}
        export_generator(run.out, spec, generator)
        problems = run.train_ds.problems() + run.val_ds.problems()
        if problems:
            run.say(f"{len(problems)} file(s) were skipped (on_error=skip):")
            for path, reason in problems[:20]:
                run.say(f"  {path}: {reason}")
        run.say(f"done in {time.perf_counter() - started:.1f} s: {run.out}")
        if run.metrics is not None:
            run.metrics.close()
    distributed.barrier(run.dist_info)


def train(cfg: ResolvedConfig, *, resume_dir: str | Path | None = None, show_progress: bool = True,
          callbacks: Sequence[Any] = ()) -> Path:
    """Train according to ``cfg``; return the run directory.

    ``callbacks`` follow the public protocol (``emkit.engine.loop.callbacks``);
    ``show_progress`` adds the terminal progress line (``progress_line.ProgressLine``) as
    the first of them.
    """
    from emkit.engine.loop.progress_line import ProgressLine

    rt = setup_runtime(cfg)
    chosen = [ProgressLine()] if show_progress else []
    with distributed.lost_peers(rt.dist_info, "it was lost before this attempt trained a step"):
        run = start_run(cfg, rt, resume_dir, [*chosen, *check_callbacks(callbacks)])
    if resume_dir is not None:
        restore(run)
    announce(run)
    started = time.perf_counter()
    stop = StopRequest()
    kept = f"the newest checkpoint in {run.out} is kept: continue with emkit run resume={run.out}"
    with stop.installed(), distributed.lost_peers(rt.dist_info, kept):
        for epoch in range(run.start_epoch, cfg.train.epochs):
            run.epoch = epoch
            train_epoch(run, epoch, stop)
            end_epoch(run, epoch)
        finish_run(run, started)
    return run.out
