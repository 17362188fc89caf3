"""Pix2pix training throughput in NCHW vs NHWC (channels_last) memory format.

``train.channels_last`` left unset (auto) trains in NHWC on CPU and CUDA
(``emkit.engine.devices.channels_last_default``). This measures that choice: for each
generator, full pix2pix steps (D + G, Adam, fused degradation op) on the same batch in
both formats, timed interleaved (median) so background load hits both alike.

    python benchmarks/bench_memory_format.py                 # CPU: batch 8, 128² crops
    python benchmarks/bench_memory_format.py --save
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import build, report, time_steps  # noqa: E402

#: (label, generator, overrides)
GENERATORS = [
    ("unet w8 b2", "unet", ["generator.width=8", "generator.blocks=2"]),
    ("unet", "unet", []),
    ("hrnet", "hrnet", []),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()

    from emkit.data.synthetic.cem import render_cem
    from emkit.data.synthetic.fields import rng_for
    from emkit.engine.devices import select_device

    device = select_device(args.device)
    side = args.crop + args.crop // 4
    images = torch.stack([torch.from_numpy(render_cem(rng_for(0, "cem", "train", i), side))
                          for i in range(args.batch)])
    batch = {"image": images[:, None].contiguous().to(device)}
    lines = [f"bench_memory_format  device={device} ({platform.processor() or 'cpu'})  torch={torch.__version__}  "
             f"threads={torch.get_num_threads()}",
             f"pix2pix step (D + G, Adam), batch {args.batch}, {args.crop}x{args.crop} crops, automatic D width, "
             f"median of {args.steps} interleaved steps after 2 warm-up",
             "",
             f"{'generator':<12} {'format':>7} {'img/s':>8} {'ms/step':>9} {'speed-up':>9}"]
    for label, name, overrides in GENERATORS:
        variants = {}
        for fmt, nhwc in (("NCHW", False), ("NHWC", True)):
            objective, ctx = build(name, device, args.crop, overrides, channels_last=nhwc)
            time_steps(objective, ctx, batch, 2)  # warm-up
            variants[fmt] = (objective, ctx)
        samples: dict[str, list[float]] = {fmt: [] for fmt in variants}
        for _ in range(args.steps):
            for fmt, (objective, ctx) in variants.items():
                samples[fmt].append(time_steps(objective, ctx, batch, 1)[0])
        base = statistics.median(samples["NCHW"])
        for fmt in variants:
            sec = statistics.median(samples[fmt])
            lines.append(f"{label:<12} {fmt:>7} {args.batch / sec:>8.2f} {sec * 1e3:>9.1f} {base / sec:>8.2f}x")
    report("\n".join(lines), f"bench_memory_format_{device.type}.txt", args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
