"""Tiled prediction: throughput (megapixels/s) and peak memory, for unet and hrnet.

For every generator × tile size the script predicts a 4096² uint8 TIFF from disk into a
float32 TIFF on disk (the full ``emkit predict`` path: strip reader, tiled engine with
auto overlap, strip writer) and reports:

* ``Mpx/s``: image megapixels per second of wall time (tile overlap included);
* ``batch MiB``: the working set of ONE forward pass of one tile batch
  (``--batch`` tiles of ``tile²``), measured alone;
* ``peak MiB``: the peak over the whole prediction;
* ``peak/batch``: must stay below 2 (the image adds only strips and a band of rows);
* ``4096/2048``: peak of the 4096² run over the peak of the same run on a 2048² image:
  about 1 when memory does not grow with the image;
* ``max dev``: the largest difference between tiled and whole-image inference on the
  first tile pair of a 1024² image (``emkit.predict.tiling_check``, what ``emkit predict``
  prints where the overlap does not cover the receptive field), in output units ([0, 1]
  intensities). Exact tilings show float rounding (about 1e-7); a '~' overlap shows what
  the approximation costs.

Memory is host RSS above the level just before the first forward pass (peak reset via
``/proc/self/clear_refs``), each measurement in its own subprocess; on CUDA the device's
``max_memory_allocated`` is reported instead. Weights are random (speed and memory do
not depend on them).

Default networks are small so the default run stays within about 5 minutes on a
2-core CPU: ``unet`` U-Net_2_44 at the paper's width 4, and ``hrnet`` with 4 branches of
widths 4/8/16/32 and one module per stage (``--full`` uses the generators' defaults:
U-Net_4_200 at width 16 and HRNetV2-W18-small-v2). Speed and memory do not depend on the
weights, the deviation does: the weights are He-scaled random numbers (seed 0) with a
head scaled so the [0, 1] outputs are rarely clamped -- not a trained model, whose
deviation ``emkit predict`` measures itself.

    python -m benchmarks.throughput.bench_predict                    # CPU/GPU, default table
    python -m benchmarks.throughput.bench_predict --full --results      # default networks, save results
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import add_dry_run_flag, add_results_flag, write_results

SMALL = {
    "unet": {"blocks": 2, "width": 4},
    "hrnet": {"stem_width": 8, "stage1_width": 4, "stage1_blocks": 1, "widths": [4, 8, 16, 32],
              "modules": [1, 1, 1], "blocks": [1, 1, 1], "decoder_widths": [8, 8, 4]},
}
FULL: dict[str, dict] = {"unet": {}, "hrnet": {}}


# --------------------------------------------------------------------------- memory probes


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _trim_heap() -> None:
    """Give freed heap memory back to the OS, so RSS is live memory (glibc only)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


#: Allocations above this size are mmap-ed and unmapped when freed; glibc would otherwise
#: raise its threshold dynamically and keep freed tensors in the heap, hiding reuse.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


class Peak:
    """Peak memory above the current level: host RSS, or CUDA allocations on a GPU."""

    def __init__(self, device) -> None:  # noqa: ANN001
        import torch

        self.cuda = device.type == "cuda"
        self.torch = torch
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            _trim_heap()
            self.base = _status_kib("VmRSS") * 1024
            _reset_peak()

    def mib(self) -> float:
        if self.cuda:
            self.torch.cuda.synchronize()
            return (self.torch.cuda.max_memory_allocated() - self.base) / 2**20
        return (_status_kib("VmHWM") * 1024 - self.base) / 2**20


# --------------------------------------------------------------------------- worker (one measurement)


def worker(job: dict) -> dict:
    import numpy as np
    import torch

    from emkit.engine.runtime.devices import select_device
    from emkit.predict import TiledPredictor, TileSettings, load_model
    from emkit.data.intensity import Scaling
    from emkit.predict.inputs.sources import open_source
    from emkit.predict.writers import TiffStripWriter

    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    device = select_device(job["device"])
    model = load_model(job["run"], device)
    predictor = TiledPredictor(model.generator, model.head, TileSettings(tile=job["tile"], batch=job["batch"]), device)
    if job["mode"] == "deviation":
        return deviation(predictor, job["image"])
    if job["mode"] == "batch":
        t = predictor.tile
        x = torch.rand(job["batch"], model.in_channels, t, t, device=device) * 2 - 1
        peak = Peak(device)
        with torch.inference_mode():
            y = model.head.activate(model.generator(x)).cpu()
        del y
        return {"mib": peak.mib()}
    with open_source(job["image"], model.in_channels) as source:
        _, _, h, w = source.shape
        out = TiffStripWriter(Path(job["out"]), (1, 1, h, w), np.float32)
        peak = Peak(device)
        t0 = time.perf_counter()
        predictor.predict(lambda a, b: source.read_rows(0, a, b), h, w, Scaling(pre=255.0),
                          lambda r0, r1, v: out.write(0, r0, v))
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        out.close()
    ov = predictor.overlap
    return {"mib": peak.mib(), "seconds": seconds, "tiles": predictor.count_tiles(h, w), "overlap": ov.overlap,
            "exact": ov.exact, "tile": predictor.tile}


def deviation(predictor, image_path: str) -> dict:  # noqa: ANN001
    """Tiled vs whole-image inference on the first tile pair of the image (float rounding when exact)."""
    import tifffile

    from emkit.data.intensity import Scaling
    from emkit.predict.tiling_check import TilingProbe

    image = tifffile.imread(image_path)[None]
    h, w = image.shape[-2:]
    probe = TilingProbe(predictor, lambda a, b: image[:, a:b], h, w, Scaling(pre=255.0))
    predictor.predict(lambda a, b: image[:, a:b], h, w, Scaling(pre=255.0), probe.watch(lambda a, b, v: None))
    return {"max_abs": probe.result().max_abs}


def he_random(generator, seed: int = 0, head_scale: float = 0.3):  # noqa: ANN001, ANN201
    """He-scaled random weights, non-trivial batch-norm statistics: outputs of order 1 (see the docstring)."""
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in generator.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / m.weight[0].numel()) ** 0.5)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
        last = [m for m in generator.modules() if isinstance(m, nn.Conv2d)][-1]
        last.weight.mul_(head_scale)
    return generator


def measure(job: dict) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.throughput.bench_predict", "--worker", json.dumps(job)], capture_output=True, text=True,
                          env={**os.environ, **MALLOC_ENV})
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed for {job}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- driver


def make_inputs(folder: Path, sizes: list[int], full: bool) -> tuple[dict[str, Path], dict[int, Path]]:
    import numpy as np
    import tifffile

    from emkit.engine.runs.weights import export_generator
    from emkit.models import build_generator, generator_spec

    runs = {}
    for name, config in (FULL if full else SMALL).items():
        gen = he_random(build_generator(name, dict(config)))
        spec = generator_spec(name, gen)
        spec["trained_with"] = {"pretext": "pix2pix", "task": None, "data": "bench", "steps": 0}
        runs[name] = folder / name
        export_generator(runs[name], spec, gen)
    images = {}
    rng = np.random.default_rng(0)
    for size in sorted(set(sizes)):
        images[size] = folder / f"image_{size}.tif"
        tifffile.imwrite(images[size], rng.integers(0, 256, (size, size), dtype=np.uint8))
    return runs, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--generators", nargs="+", default=["unet", "hrnet"])
    parser.add_argument("--tiles", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--size", type=int, default=4096, help="image side (default 4096)")
    parser.add_argument("--compare-size", type=int, default=2048, help="smaller image for the growth check")
    parser.add_argument("--deviation-size", type=int, default=1024, help="image side for the deviation")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--full", action="store_true", help="the generators' default (large) configurations")
    add_results_flag(parser, "bench_predict_{device}.txt")
    add_dry_run_flag(parser)
    args = parser.parse_args()
    if args.dry_run:
        args.device, args.size, args.compare_size, args.tiles, args.batch, args.generators = "cpu", 96, 64, [32], 1, ["unet"]
        args.deviation_size = 80
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return

    import torch

    from emkit.engine.runtime.devices import select_device

    device = select_device(args.device)
    header = (f"{'generator':<9} {'tile':>5} {'overlap':>9} {'image':>6} {'tiles':>6} {'seconds':>8} {'Mpx/s':>7} "
              f"{'batch MiB':>9} {'peak MiB':>9} {'peak/batch':>10} {f'{args.size}/{args.compare_size}':>10} "
              f"{'max dev':>8}")
    lines = []
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_predict_") as tmp:
        folder = Path(tmp)
        runs, images = make_inputs(folder, [args.size, args.compare_size, args.deviation_size], args.full)
        print(header, flush=True)
        lines.append(header)
        for name in args.generators:
            for tile in args.tiles:
                base = {"run": str(runs[name]), "tile": tile, "batch": args.batch, "device": args.device,
                        "threads": args.threads}
                batch = measure({**base, "mode": "batch"})
                small = measure({**base, "mode": "predict", "image": str(images[args.compare_size]),
                                 "out": str(folder / "out_small.tif")})
                big = measure({**base, "mode": "predict", "image": str(images[args.size]),
                               "out": str(folder / "out_big.tif")})
                dev = measure({**base, "mode": "deviation", "image": str(images[args.deviation_size])})
                mpx = args.size**2 / 1e6 / big["seconds"]
                overlap = f"{big['overlap']}{'' if big['exact'] else '~'}"
                line = (f"{name:<9} {big['tile']:>5} {overlap:>9} {args.size:>6} {big['tiles']:>6} "
                        f"{big['seconds']:>8.1f} {mpx:>7.2f} {batch['mib']:>9.1f} {big['mib']:>9.1f} "
                        f"{big['mib'] / batch['mib']:>10.2f} {big['mib'] / max(small['mib'], 1e-9):>10.2f} "
                        f"{dev['max_abs']:>8.2g}")
                print(line, flush=True)
                lines.append(line)
    configs = FULL if args.full else SMALL
    where = (f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
                                    f", {torch.get_num_threads() if not args.threads else args.threads} threads"))
    notes = [
        where,
        f"batch {args.batch} tiles; memory = {'CUDA max_memory_allocated' if device.type == 'cuda' else 'host RSS'} "
        "above the level before the first forward",
        "overlap: auto ('~' = receptive field larger than the tile allows: quarter-tile overlap, not exact)",
        f"max dev: max |tiled - whole-image| on the first tile pair of a {args.deviation_size}² image, [0, 1] "
        "output units, He-random weights (seed 0; not a trained model)",
        "networks: " + "; ".join(f"{k} {json.dumps(v) if v else '(defaults)'}" for k, v in configs.items()),
        f"total wall time {time.perf_counter() - t_start:.0f} s; 1-min load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (other processes share the CPU when it exceeds the thread count)",
    ]
    for note in notes:
        print(note)
    if args.results:
        write_results(args.results.format(device=device.type), "\n".join(lines + [""] + notes))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
