"""Pix2pix training throughput with the reference discriminator (width 64) vs the automatic width.

Uses ``bench_train``'s model building and step timing (full D + G steps, Adam, fused
degradation op) on the same batch; for each generator the two discriminator widths are
timed interleaved (median), so background load hits both alike. The automatic width is
the generator's scale in [8, 64]: its ``scale_width`` (HRNet's branch width) or else its
first conv's width (``emkit_builtin.pretexts.patchgan.width_for``).

    python -m benchmarks.throughput.bench_dwidth                       # CPU: batch 8, 128² crops
    python -m benchmarks.throughput.bench_dwidth --steps 10 --results
"""

from __future__ import annotations

import argparse

from benchmarks.common import add_dry_run_flag, add_results_flag, report
from benchmarks.throughput.bench_train import add_step_args, build, cem_batch, interleaved_seconds, step_header

#: (label, generator, overrides): a small and the default U-Net, and HRNet W18 (automatic width 18).
GENERATORS = [
    ("unet w8 b3", "unet", ["generator.width=8", "generator.blocks=3"]),
    ("unet w16 b4", "unet", []),
    ("hrnet", "hrnet", []),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_step_args(ap)
    ap.add_argument("--only", default="", help="comma-separated labels to run (default: all)")
    add_results_flag(ap, "bench_dwidth_{device}.txt")
    add_dry_run_flag(ap)
    args = ap.parse_args()
    if args.dry_run:
        args.device, args.batch, args.crop, args.steps, args.only = "cpu", 2, 32, 1, "unet w8 b3"

    from emkit.engine.runtime.devices import select_device

    device = select_device(args.device)
    batch = cem_batch(args.batch, args.crop, device)
    lines = [*step_header("bench_dwidth", device, args, ""),
             f"{'generator':<12} {'D width':>8} {'img/s':>8} {'ms/step':>9} {'speed-up':>9}"]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    for label, name, overrides in GENERATORS:
        if only and label not in only:
            continue
        variants = {tag: build(name, device, args.crop, [*overrides, *extra])
                    for tag, extra in (("64", ["pretext.d_width=64"]), ("auto", []))}
        seconds = interleaved_seconds(variants, batch, args.steps)
        base = seconds["64"]
        for tag, sec in seconds.items():
            width = variants[tag][0].discriminator.model[0].out_channels
            lines.append(f"{label:<12} {width:>8} {args.batch / sec:>8.2f} {sec * 1e3:>9.1f} {base / sec:>8.2f}x")
    report("\n".join(lines), args.results, device=device.type)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
