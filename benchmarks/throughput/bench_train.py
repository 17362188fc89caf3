"""Pix2Pix pretext training throughput and the data share of a step: fused op vs kornia vs plain torch.

For each generator (unet, hrnet) it runs full pix2pix training steps (D step + G step,
Adam) on the same model and data, feeding the step with (clean, degraded) pairs made by

* ``fused``: the fused op (``emkit.ops.degrade_pair``, what training uses);
* ``kornia`` (only when kornia is installed): RandomRotation + RandomCrop + flips, then
  RandomGaussianBlur + RandomGaussianNoise;
* ``torch``: plain torch driven by the same random parameters (``grid_sample`` warp,
  grouped-conv blur, Poisson and Gaussian noise; benchmarks/degrade_pipelines.py),

and prints images/s, milliseconds per step, the milliseconds and the fraction of step time
spent producing the pairs (``ctx.data_timer``: synchronised, so real), and each step time
relative to the fused op's -- measured side by side in one run (interleaved, median). The
data share answers "is training data-bound?" for each pipeline.

Targets: with the fused op, data <= 5 % of step time on CPU; <= 2 % on a GPU at batch 128,
256^2, bf16 (``--preset gpu``).

    python -m benchmarks.throughput.bench_train                         # CPU: batch 8, 128^2 crops
    python -m benchmarks.throughput.bench_train --preset gpu --results  # CUDA: batch 128, 256^2, bf16
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, optional_import, report
from benchmarks.degrade_pipelines import kornia_modules, torch_degrade


def build(generator: str, device: torch.device, crop: int, gen_overrides: list[str], compile_: bool = False,
          channels_last: bool | None = None, pretext: str = "pix2pix"):
    """(objective, step context) of ``pretext`` as a run builds them; ``channels_last=None`` = the run's auto."""
    from emkit.config import resolve
    from emkit.engine.runtime.devices import channels_last_default
    from emkit.engine.loop.objective_setup import build_objective, prepare_objective

    cfg = resolve([f"pretext={pretext}", f"generator={generator}", f"pretext.crop={crop}", *gen_overrides,
                   f"train.device={device}"])
    objective = build_objective(cfg)
    prepared = prepare_objective(objective, device, precision="auto", compile_=compile_,
                                 channels_last=channels_last_default(device) if channels_last is None else channels_last)
    return objective, prepared.ctx


def cem_batch(batch_size: int, crop: int, device: torch.device) -> dict[str, torch.Tensor]:
    """``batch_size`` synthetic-cem uint8 images, a quarter larger than ``crop``, as a batch."""
    from emkit.data.synthetic.cem import render_cem
    from emkit.data.synthetic.fields import rng_for

    side = crop + crop // 4
    images = torch.stack([torch.from_numpy(render_cem(rng_for(0, "cem", "train", i), side))
                          for i in range(batch_size)])
    return {"image": images[:, None].contiguous().to(device)}


def add_step_args(ap: argparse.ArgumentParser) -> None:
    """The options of the side-by-side pix2pix step benchmarks (device, batch, crop, steps)."""
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)


def step_header(name: str, device: torch.device, args: argparse.Namespace, detail: str) -> list[str]:
    """The first lines of a side-by-side pix2pix step benchmark's report."""
    return [f"{name}  device={device} ({platform.processor() or 'cpu'})  torch={torch.__version__}  "
            f"threads={torch.get_num_threads()}",
            f"pix2pix step (D + G, Adam), batch {args.batch}, {args.crop}x{args.crop} crops, {detail}"
            f"median of {args.steps} interleaved steps after 2 warm-up", ""]


def interleaved_seconds(variants: dict, batch, steps: int) -> dict[str, float]:
    """Median seconds per step of each ``{tag: (objective, ctx)}`` variant after 2 warm-up
    steps, the variants' steps interleaved so background load hits them alike."""
    for objective, ctx in variants.values():
        time_steps(objective, ctx, batch, 2)
    samples: dict[str, list[float]] = {tag: [] for tag in variants}
    for _ in range(steps):
        for tag, (objective, ctx) in variants.items():
            samples[tag].append(time_steps(objective, ctx, batch, 1)[0])
    return {tag: statistics.median(s) for tag, s in samples.items()}


def kornia_pairs(objective, crop: int, device: torch.device):
    """A ``make_pairs`` replacement built from kornia.augmentation with the same ranges; None without kornia."""
    from emkit.plugin_api import to_model

    modules = kornia_modules(objective.config.degrade, crop, device)
    if modules is None:
        return None
    geometry, photometric = modules

    def make_pairs(batch, ctx):
        with ctx.data_timer(), torch.no_grad():
            clean = geometry(batch["image"].float() / 255.0)
            degraded = photometric(clean)
        return ctx.prepare(to_model(clean)), ctx.prepare(to_model(degraded))

    return make_pairs


def torch_pairs(objective, crop: int, device: torch.device):
    """A ``make_pairs`` replacement in plain torch, driven by the same sampled parameters as the fused op."""
    from emkit.ops import sample_degrade_params
    from emkit.plugin_api import to_model

    def make_pairs(batch, ctx):
        images = batch["image"]
        with ctx.data_timer():
            params = sample_degrade_params(images.shape[0], tuple(images.shape[-2:]), (crop, crop),
                                           objective.config.degrade, device=images.device)
            clean, degraded = torch_degrade(images, params, crop)
        return ctx.prepare(to_model(clean)), ctx.prepare(to_model(degraded))

    return make_pairs


def interleaved_steps(objective, ctx, batch, pipelines: dict, steps: int) -> dict[str, tuple[float, float]]:
    """``{label: (median seconds per step, median data fraction)}``, each pipeline as the
    objective's ``make_pairs``, after 2 warm-up steps, steps interleaved across pipelines."""
    for pairs in pipelines.values():
        objective.make_pairs = pairs
        time_steps(objective, ctx, batch, 2)
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in pipelines}
    for _ in range(steps):
        for label, pairs in pipelines.items():
            objective.make_pairs = pairs
            samples[label].append(time_steps(objective, ctx, batch, 1))
    return {label: (statistics.median(s for s, _ in rows), statistics.median(f for _, f in rows))
            for label, rows in samples.items()}


def time_steps(objective, ctx, batch, steps: int) -> tuple[float, float]:
    """(seconds per step, data fraction) medians over ``steps`` steps."""
    per_step, fractions = [], []
    for i in range(steps):
        ctx.step, ctx.seed, ctx.data_seconds = i, 1000 + i, 0.0
        if ctx.device.type == "cuda":
            torch.cuda.synchronize(ctx.device)
        t0 = time.perf_counter()
        objective.training_step(batch, ctx)
        if ctx.device.type == "cuda":
            torch.cuda.synchronize(ctx.device)
        dt = time.perf_counter() - t0
        per_step.append(dt)
        fractions.append(ctx.data_seconds / dt)
    return statistics.median(per_step), statistics.median(fractions)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--preset", choices=["cpu", "gpu"], default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--crop", type=int, default=None)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--generators", default="unet,hrnet")
    add_results_flag(ap, "bench_train_{device}.txt")
    add_dry_run_flag(ap)
    ap.add_argument("--compile", action="store_true", help="torch.compile the networks (as train.compile=true)")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="extra config overrides (e.g. generator.width=4)")
    args = ap.parse_args()
    if args.dry_run:
        args.device, args.batch, args.crop, args.steps, args.generators = "cpu", 2, 32, 1, "unet"
        args.set = [*args.set, "generator.blocks=2", "generator.width=4", "pretext.d_width=8"]

    from emkit.engine.runtime.devices import select_device

    device = select_device(args.device)
    preset = args.preset or ("gpu" if device.type == "cuda" else "cpu")
    batch_size = args.batch or (128 if preset == "gpu" else 8)
    crop = args.crop or (256 if preset == "gpu" else 128)
    side = crop + crop // 4
    batch = cem_batch(batch_size, crop, device)

    lines = [f"bench_train  device={device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or 'cpu'})"
             f"  torch={torch.__version__}  threads={torch.get_num_threads()}",
             f"pix2pix step (D + G, Adam), batch {batch_size}, {crop}x{crop} crops from {side}x{side} uint8, "
             f"precision {'bf16' if device.type == 'cuda' else 'fp32'}, compile {'on' if args.compile else 'off'}, median of {args.steps} steps after 2 warm-up",
             "",
             f"{'generator':<10} {'pipeline':<8} {'img/s':>8} {'ms/step':>9} {'data ms':>8} {'data %':>7} {'step/fused':>10}"]
    for name in args.generators.split(","):
        objective, ctx = build(name, device, crop, args.set, compile_=args.compile)
        pipelines = {"fused": objective.make_pairs, "kornia": kornia_pairs(objective, crop, device),
                     "torch": torch_pairs(objective, crop, device)}
        pipelines = {label: pairs for label, pairs in pipelines.items() if pairs is not None}
        results = interleaved_steps(objective, ctx, batch, pipelines, args.steps)
        base = results["fused"][0]
        for label, (sec, frac) in results.items():
            lines.append(f"{name:<10} {label:<8} {batch_size / sec:>8.2f} {sec * 1e3:>9.1f} {sec * frac * 1e3:>8.1f} "
                         f"{100 * frac:>6.1f}% {sec / base:>9.2f}x")
        objective.make_pairs = pipelines["fused"]
    if optional_import("kornia") is None:
        lines.append("(kornia is not installed here: no kornia rows)")
    report("\n".join(lines), args.results, device=device.type)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
