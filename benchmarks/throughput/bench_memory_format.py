"""Training and tiled-prediction throughput in NCHW vs NHWC (channels_last) memory format.

``train.channels_last`` and ``emkit predict``'s memory format, left unset (auto), use NHWC
on CPU and CUDA (``emkit.engine.runtime.devices.channels_last_default``). This measures that
choice, both formats timed interleaved (median) so background load hits both alike:

* training: full pix2pix steps (D + G, Adam, fused degradation op) on the same batch;
* prediction: ``TiledPredictor.predict_array`` of one random 1024² image in 512² tiles
  (batch 2) with random weights, and the largest difference between the two outputs.

    python -m benchmarks.throughput.bench_memory_format                 # CPU: batch 8, 128² crops
    python -m benchmarks.throughput.bench_memory_format --results
"""

from __future__ import annotations

import argparse
import statistics

import torch

from benchmarks.common import add_dry_run_flag, add_results_flag, report
from benchmarks.throughput.bench_train import add_step_args, build, cem_batch, interleaved_seconds, step_header

#: (label, generator, overrides)
GENERATORS = [
    ("unet w8 b2", "unet", ["generator.width=8", "generator.blocks=2"]),
    ("unet", "unet", []),
    ("hrnet", "hrnet", []),
]


def predict_rows(label: str, name: str, overrides: list[str], device: torch.device, repeats: int,
                 side: int = 1024) -> list[str]:
    """Tiled prediction in both formats, interleaved; rows of seconds, speed-up and output difference."""
    import time

    import numpy as np

    from emkit.models import build_generator
    from emkit.predict.postprocess import OutputHead
    from emkit.predict.tiled_predictor import TiledPredictor, TileSettings

    values = {o.split("=", 1)[0].removeprefix("generator."): o.split("=", 1)[1] for o in overrides}
    config = {k: int(v) for k, v in values.items()}
    image = np.random.default_rng(0).random((1, side, side), dtype=np.float32)
    predictors, outputs, seconds = {}, {}, {"NCHW": [], "NHWC": []}
    for fmt, nhwc in (("NCHW", False), ("NHWC", True)):
        torch.manual_seed(0)
        generator = build_generator(name, config).eval()
        predictors[fmt] = TiledPredictor(generator, OutputHead("image", 1),
                                         TileSettings(tile=side // 2, batch=2, channels_last=nhwc), device)
        outputs[fmt] = predictors[fmt].predict_array(image)  # warm-up
    for _ in range(repeats):
        for fmt, predictor in predictors.items():
            t0 = time.perf_counter()
            predictor.predict_array(image)
            seconds[fmt].append(time.perf_counter() - t0)
    base = statistics.median(seconds["NCHW"])
    diff = float(np.abs(outputs["NCHW"] - outputs["NHWC"]).max())
    return [f"{label:<12} {fmt:>7} {statistics.median(seconds[fmt]):>8.2f} "
            f"{base / statistics.median(seconds[fmt]):>8.2f}x {diff if fmt == 'NHWC' else 0.0:>11.1e}"
            for fmt in seconds]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_step_args(ap)
    add_results_flag(ap, "bench_memory_format_{device}.txt")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    generators, side = GENERATORS, 1024
    if args.dry_run:
        args.device, args.batch, args.crop, args.steps, side = "cpu", 2, 32, 1, 64
        generators = [("unet w4 b2", "unet", ["generator.width=4", "generator.blocks=2"])]

    from emkit.engine.runtime.devices import select_device

    device = select_device(args.device)
    batch = cem_batch(args.batch, args.crop, device)
    lines = [*step_header("bench_memory_format", device, args, "automatic D width, "),
             f"{'generator':<12} {'format':>7} {'img/s':>8} {'ms/step':>9} {'speed-up':>9}"]
    for label, name, overrides in generators:
        variants = {fmt: build(name, device, args.crop, overrides, channels_last=nhwc)
                    for fmt, nhwc in (("NCHW", False), ("NHWC", True))}
        seconds = interleaved_seconds(variants, batch, args.steps)
        base = seconds["NCHW"]
        for fmt, sec in seconds.items():
            lines.append(f"{label:<12} {fmt:>7} {args.batch / sec:>8.2f} {sec * 1e3:>9.1f} {base / sec:>8.2f}x")
    lines += ["", f"tiled prediction of a {side}x{side} image, {side // 2}x{side // 2} tiles, batch 2, median of {args.steps} "
              "interleaved runs after 1 warm-up", "",
              f"{'generator':<12} {'format':>7} {'seconds':>8} {'speed-up':>9} {'max |diff|':>11}"]
    for label, name, overrides in generators:
        lines += predict_rows(label, name, overrides, device, args.steps, side)
    report("\n".join(lines), args.results, device=device.type)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
