"""The training loop shared by pretexts and tasks.

One call of ``train(cfg)``: set up devices/DDP, data, the objective and its optimizers;
resume from the newest checkpoint when ``resume=`` names a run; loop over epochs with
per-step logging, validation every epoch (and test evaluation at ``eval_epochs``),
sample grids, atomic checkpoints every epoch and every ``train.checkpoint_every``
steps; finally export ``generator.safetensors`` + ``generator.json``.

Determinism: the data order depends only on (seed, epoch), every random choice inside a
step is seeded by (seed, rank, step), and the learning rate is a pure function of the
step, so a run killed and resumed from a checkpoint ends with the same weights as an
uninterrupted one (CPU, ``train.deterministic=true``).

Test hooks (environment): ``EMKIT_FAULT_KILL_AT_STEP=N`` SIGKILLs the process after step
N (to test resume after a real kill); ``EMKIT_DUMP_RANK_WEIGHTS=DIR`` makes every rank
write its final generator weights (to check DDP ranks agree).
"""

from __future__ import annotations

import math
import os
import signal
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from emkit import registry
from emkit.config import ResolvedConfig
from emkit.engine import checkpoint, distributed, honour, run_dir as run_dirs
from emkit.engine.context import StepContext, step_seed
from emkit.engine.devices import autocast_factory, select_device
from emkit.engine.metrics_log import MetricsLog
from emkit.engine.objective import build_objective, forward_modules
from emkit.engine.progress import Progress
from emkit.engine.sampler import ResumableDistributedSampler
from emkit.engine.samples import save_grid
from emkit.engine.stop import StopRequest, TrainingInterrupted
from emkit.engine.schedule import lr_factor
from emkit.engine.weights import export_generator
from emkit.errors import DataError, EmkitError
from emkit.models import generator_spec
from emkit.ops import ops_summary, set_ops_mode

VAL_SALT = 0x5A17
TEST_SALT = 0x7E57


def build_dataset(cfg: ResolvedConfig, split: str, target: str | None) -> Any:
    name = cfg.plugin_name("data")
    if name is None:
        raise EmkitError("No dataset chosen; add data=<name> (see `emkit plugins list`)")
    cls = registry.load("data", name)
    ds = cls(cfg.plugin_config("data"), split)
    if target is not None:
        ds.select_target(target)
    return ds


def _check_data(ds: Any, objective: Any, split: str, cfg: ResolvedConfig) -> None:
    if len(ds) == 0:
        raise DataError(f"Dataset {cfg.plugin_name('data')!r} has no samples in its {split} split")
    needed = [k for k in getattr(objective, "requires", ("image",)) if k != "image"]
    provides = set(getattr(ds, "provides", ()))
    missing = [k for k in needed if k not in provides]
    if missing:
        raise DataError(
            f"Dataset {cfg.plugin_name('data')!r} provides {sorted(provides) or 'images only'} "
            f"but the objective needs {missing}"
        )


def _loader(ds: Any, batch_size: int, sampler: Any, workers: int, pin: bool) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, num_workers=workers,
                      pin_memory=pin, drop_last=False, persistent_workers=False)


def eval_loader(ds: Any, batch_size: int, dist_info: distributed.DistInfo, workers: int, pin: bool) -> DataLoader:
    """Fixed-order loader over a whole split (sharded across ranks in DDP)."""
    sampler = None
    if dist_info.enabled:
        sampler = torch.utils.data.DistributedSampler(ds, num_replicas=dist_info.world_size, rank=dist_info.rank,
                                                      shuffle=False, drop_last=False)
    return _loader(ds, batch_size, sampler, workers, pin)


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v) for k, v in batch.items()}


def _set_lr(optimizers: dict[str, torch.optim.Optimizer], factor: float) -> float:
    lr = 0.0
    for opt in optimizers.values():
        for group in opt.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor
            lr = group["lr"]
    return lr


def evaluate(objective: Any, loader: DataLoader, ctx: StepContext, dist_info: distributed.DistInfo,
             salt: int, max_batches: int | None, seed: int) -> tuple[dict[str, float], dict[str, Any] | None]:
    """Mean of per-sample metrics over ``loader`` (summed across ranks); first batch kept."""
    for module in objective.modules().values():
        module.eval()
    sums: dict[str, torch.Tensor] = {}
    count = torch.zeros((), dtype=torch.float64)
    first = None
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                break
            batch = _to_device(batch, ctx.device)
            ctx.seed = step_seed(seed, 0, i, salt)
            metrics = objective.validation_step(batch, ctx)
            for key, values in metrics.items():
                values = values.detach().double().cpu()
                sums[key] = sums.get(key, torch.zeros((), dtype=torch.float64)) + values.sum()
                n = values.numel()
            count += n
            if first is None:
                first = batch
    keys = sorted(sums)
    packed = torch.stack([sums[k] for k in keys] + [count]) if keys else count.reshape(1)
    packed = distributed.all_reduce_sum(dist_info, packed.to(ctx.device if dist_info.enabled and ctx.device.type == "cuda" else "cpu")).cpu()
    total = float(packed[-1])
    for module in objective.modules().values():
        module.train()
    return {k: float(packed[i]) / max(total, 1.0) for i, k in enumerate(keys)}, first


def train(cfg: ResolvedConfig, *, resume_dir: str | Path | None = None, show_progress: bool = True) -> Path:
    """Train according to ``cfg``; return the run directory."""
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
    channels_last = cfg.train.channels_last if cfg.train.channels_last is not None else device.type == "cuda"

    objective = build_objective(cfg)
    target = getattr(objective, "dataset_target", None)
    train_ds = build_dataset(cfg, "train", target)
    val_ds = build_dataset(cfg, "val", target)
    _check_data(train_ds, objective, "train", cfg)
    if len(val_ds):
        _check_data(val_ds, objective, "val", cfg)

    # Run directory (rank 0 creates it; the others learn its path).
    if resume_dir is not None:
        out = Path(resume_dir)
    else:
        out = run_dirs.create(cfg) if dist_info.is_main else None
    out = Path(distributed.broadcast_object(dist_info, str(out) if out else None))

    forward_modules(objective, device, ddp=dist_info.enabled, compile_=cfg.train.compile,
                    channels_last=channels_last)
    optimizers = objective.configure_optimizers()
    modules = objective.modules()

    bs = cfg.train.batch_size
    sampler = ResumableDistributedSampler(train_ds, num_replicas=dist_info.world_size, rank=dist_info.rank,
                                          seed=cfg.run.seed, shuffle=True, drop_last=True)
    per_epoch = sampler.num_samples // bs
    if per_epoch == 0:
        raise DataError(
            f"The train split has {len(train_ds)} samples, fewer than one batch of {bs} per process; "
            "lower train.batch_size or add data"
        )
    steps_per_epoch = honour.settle_with_data(cfg, train_ds, per_epoch, out if dist_info.is_main else None)
    total_steps = steps_per_epoch * cfg.train.epochs
    pin = device.type == "cuda"
    val_loader = eval_loader(val_ds, bs, dist_info, cfg.train.num_workers, pin)

    metrics = MetricsLog(out / "metrics.csv",
                         tensorboard_dir=(out / "tensorboard") if cfg.run.logger == "tensorboard" else None) \
        if dist_info.is_main else None

    start_epoch, start_in_epoch, step = 0, 0, 0
    if resume_dir is not None:
        state = checkpoint.load_checkpoint(out / "checkpoints", modules=modules, optimizers=optimizers)
        if state is not None:
            step = state["step"]
            start_epoch, start_in_epoch = state["epoch"], state["epoch_step"]
            if start_in_epoch >= steps_per_epoch:
                start_epoch, start_in_epoch = start_epoch + 1, 0
            if metrics is not None:
                metrics.truncate_after(step)

    ctx = StepContext(device=device, autocast=autocast_factory(device, cfg.train.precision),
                      channels_last=channels_last, grad_clip=cfg.train.grad_clip)
    progress = Progress(total_steps, enabled=show_progress and dist_info.is_main, log_every=cfg.train.log_every)
    if not len(val_ds):
        progress.message("warning: the validation split is empty; no validation metrics will be logged")
    if step:
        progress.message(f"resuming {out} at step {step} (epoch {start_epoch + 1}, batch {start_in_epoch})")
    else:
        progress.message(f"run directory: {out}")

    def save(epoch: int, epoch_step: int) -> None:
        for module in modules.values():
            distributed.sync_buffers(dist_info, module)
        if dist_info.is_main:
            checkpoint.save_checkpoint(out / "checkpoints", step=step, modules=modules, optimizers=optimizers,
                                       extra={"epoch": epoch, "epoch_step": epoch_step})
        distributed.barrier(dist_info)

    t_run = time.perf_counter()
    fault = os.environ.get("EMKIT_FAULT_KILL_AT_STEP")
    fault_step = int(fault) if fault else None
    stop = StopRequest()
    with stop.installed():
        for epoch in range(start_epoch, cfg.train.epochs):
            sampler.set_epoch(epoch)
            skip = start_in_epoch if epoch == start_epoch else 0
            sampler.set_start(skip * bs)
            loader = _loader(train_ds, bs, sampler, cfg.train.num_workers, pin)
            window: dict[str, float] = {}
            n_window, t_data, t_window, images = 0, 0.0, time.perf_counter(), 0
            it = iter(loader)
            for in_epoch in range(skip, steps_per_epoch):
                t0 = time.perf_counter()
                batch = next(it)
                batch = _to_device(batch, device)
                t_data += time.perf_counter() - t0
                ctx.step, ctx.epoch = step, epoch
                ctx.seed = step_seed(cfg.run.seed, dist_info.rank, step)
                ctx.data_seconds = 0.0
                lr = _set_lr(optimizers, lr_factor(cfg.train.schedule, step, total_steps))
                losses = objective.training_step(batch, ctx)
                t_data += ctx.data_seconds
                for key, value in losses.items():
                    if not math.isfinite(value):
                        raise EmkitError(
                            f"Loss {key!r} became {value} at step {step}; the last checkpoint is kept. "
                            "Lower the learning rate or check the data for NaNs"
                        )
                    window[key] = window.get(key, 0.0) + value
                n_window += 1
                images += batch["image"].shape[0] * dist_info.world_size
                step += 1
                if step % cfg.train.log_every == 0 or in_epoch == steps_per_epoch - 1:
                    elapsed = time.perf_counter() - t_window
                    row = {k: v / n_window for k, v in window.items()}
                    row.update(lr=lr, images_per_s=images / max(elapsed, 1e-9),
                               data_time_frac=t_data / max(elapsed, 1e-9))
                    if metrics is not None:
                        metrics.log("step", epoch + 1, step, row)
                    progress.update(step, epoch + 1, {k: row[k] for k in list(window)[:3]} |
                                    {"img/s": row["images_per_s"]})
                    window, n_window, t_data, images, t_window = {}, 0, 0.0, 0, time.perf_counter()
                if fault_step is not None and step == fault_step:
                    os.kill(os.getpid(), signal.SIGKILL)  # test hook: die like a killed job
                if stop.requested:
                    save(epoch, in_epoch + 1)
                    progress.close()
                    raise TrainingInterrupted(f"interrupted at step {step}; checkpoint saved. "
                                              f"Continue with: emkit run resume={out}")
                if cfg.train.checkpoint_every and step % cfg.train.checkpoint_every == 0 \
                        and in_epoch < steps_per_epoch - 1:
                    save(epoch, in_epoch + 1)
            # End of epoch: validation, samples, test evaluation, checkpoint.
            val, first = ({}, None) if not len(val_ds) else evaluate(
                objective, val_loader, ctx, dist_info, VAL_SALT, cfg.train.val_batches, cfg.run.seed)
            row = {f"val_{k}": v for k, v in val.items()}
            if (epoch + 1) in cfg.run.eval_epochs:
                test_loader = eval_loader(build_dataset(cfg, "test", target), bs, dist_info, cfg.train.num_workers, pin)
                test, _ = evaluate(objective, test_loader, ctx, dist_info, TEST_SALT, None, cfg.run.seed)
                row.update({f"test_{k}": v for k, v in test.items()})
            if metrics is not None:
                metrics.log("epoch", epoch + 1, step, {**row, "ops": ops_summary()})  # ops: which implementation ran
                if first is not None:
                    ctx.seed = step_seed(cfg.run.seed, 0, 0, VAL_SALT)
                    with torch.no_grad():
                        for module in modules.values():
                            module.eval()
                        panels = objective.sample_panels(first, ctx)
                        for module in modules.values():
                            module.train()
                    if panels:
                        save_grid(out / "samples" / f"epoch_{epoch + 1:03d}.png", panels)
            progress.message(f"epoch {epoch + 1}/{cfg.train.epochs}: " +
                             "  ".join(f"{k} {v:.4f}" for k, v in row.items()))
            save(epoch, steps_per_epoch)
    progress.close()

    for module in modules.values():
        distributed.sync_buffers(dist_info, module)
    dump = os.environ.get("EMKIT_DUMP_RANK_WEIGHTS")
    if dump:  # test hook: every rank writes its generator so tests can compare ranks
        from safetensors.torch import save_file

        Path(dump).mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in objective.generator.state_dict().items()},
                  str(Path(dump) / f"rank{dist_info.rank}.safetensors"))
    if dist_info.is_main:
        spec = generator_spec(cfg.plugin_name("generator"), objective.generator)
        spec["trained_with"] = {"pretext": cfg.plugin_name("pretext"), "task": cfg.plugin_name("task"),
                                "data": cfg.plugin_name("data"), "steps": step}
        export_generator(out, spec, objective.generator)
        problems = train_ds.problems() + val_ds.problems()
        if problems:
            progress.message(f"{len(problems)} file(s) were skipped (on_error=skip):")
            for path, reason in problems[:20]:
                progress.message(f"  {path}: {reason}")
        progress.message(f"done in {time.perf_counter() - t_run:.1f} s: {out}")
        if metrics is not None:
            metrics.close()
    distributed.barrier(dist_info)
    return out
