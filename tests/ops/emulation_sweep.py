"""Random configurations of the emulated CUDA kernel against the CPU kernel.

Each configuration draws a batch (1-4 samples, 1-70 channels, uint8/uint16/float32 inputs
from 1x1 to ~300 pixels a side), an output size (1-4 tiles a side, widths rarely a multiple
of 4), per-channel degrade/nearest flags, which outputs are requested (pair, clean only,
degraded only), float32 or bfloat16 outputs, an int or device-memory seed, and per-sample
parameters: crops inside the image (interior tiles) and far outside it (reflection),
scales 0.3-3 and now and then 10-100, blur up to and beyond the sigma clamp, Gaussian and
Poisson noise, and absurd geometry (NaN, +-inf, 1e20 centres, 1e20 scale). It runs the
emulated CUDA launch (``cuda_emulator``) in forward, reverse or random thread order and
``emkit._C.degrade_cpu`` (AVX2 and portable paths alternately), and compares:

* pixels that are neither Poisson nor nearest: ``|gpu - cpu| <= 3e-5 + 1.5e-5 * |scale|``
  (float offsets on the GPU, double coordinates on the CPU), plus one bfloat16 ulp for
  bfloat16 outputs;
* nearest channels and Poisson samples: counted where they differ (a coordinate or a rate
  within float rounding of a decision boundary), reported as rates;
* every requested output element written (inputs are finite, so a NaN is a hole);
* every fifth configuration again in the two other orders: bit-identical results.

Run as a script (``python tests/ops/emulation_sweep.py --configs 300``) it prints a JSON
summary; tests/ops/test_cuda_emulation.py runs it in a child process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field

import torch

from cuda_emulator import emulated_degrade  # noqa: E402  (tests/ops is on sys.path)

ORDERS = ("forward", "reverse", "random")
_IN = {torch.uint8: 0, torch.uint16: 1, torch.float32: 2}
_OUT = {torch.float32: 0, torch.bfloat16: 1}


@dataclass
class Config:
    index: int
    images: torch.Tensor
    params: torch.Tensor
    size: tuple[int, int]
    seed: int
    out_dtype: torch.dtype
    clean: bool
    degraded: bool
    degrade: list[bool]
    nearest: list[bool]
    seed_on_device: bool
    order: str
    sms: int
    isa: str

    def describe(self) -> str:
        b, c, h, w = self.images.shape
        return (f"#{self.index}: {self.images.dtype} {b}x{c}x{h}x{w} -> {self.size} {self.out_dtype} "
                f"clean={self.clean} degraded={self.degraded} order={self.order} sms={self.sms} cpu={self.isa}")


@dataclass
class Summary:
    configs: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    strict_pixels: int = 0
    strict_max_err: float = 0.0
    strict_worst_err_over_tol: float = 0.0
    nearest_pixels: int = 0
    nearest_mismatches: int = 0
    poisson_pixels: int = 0
    poisson_mismatches: int = 0
    worst_poisson_rate: float = 0.0
    order_checks: int = 0
    coverage: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.coverage[key] = self.coverage.get(key, 0) + n


def _sizes(rng: random.Random, channels: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(input size, output size): tiny inputs now and then, 1-4 tiles a side (fewer with many channels)."""
    tiles = 1 if channels > 16 else 4
    out_w = rng.randint(1, 64 * tiles)
    if rng.random() < 0.75 and out_w % 4 == 0:
        out_w += rng.choice((-1, 1, 2)) if out_w > 2 else 1
    out_h = rng.randint(1, 32 * tiles)
    small = rng.random() < 0.1
    in_h = rng.randint(1, 4) if small else rng.randint(8, 300)
    in_w = rng.randint(1, 4) if small else rng.randint(8, 300)
    out_h, out_w = min(out_h, 4 * in_h), min(out_w, 4 * in_w)  # the Python API's limit
    return (in_h, in_w), (max(out_h, 1), max(out_w, 1))


def _sample_params(rng: random.Random, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> list[float]:
    in_h, in_w = in_hw
    scale = rng.uniform(0.3, 3.0) if rng.random() < 0.9 else rng.uniform(10.0, 100.0)
    if rng.random() < 0.6:  # centre the crop so it may lie inside: interior tiles
        cx, cy = rng.uniform(0.3, 0.7) * in_w, rng.uniform(0.3, 0.7) * in_h
    else:  # anywhere, up to several reflections away
        cx, cy = rng.uniform(-4, 5) * in_w, rng.uniform(-4, 5) * in_h
    angle = rng.choice((0.0, rng.uniform(-math.pi, math.pi)))
    sigma = rng.choice((0.0, 0.0, rng.uniform(0.2, 5.0), rng.uniform(5.0, 9.0)))
    noise = rng.choice((0.0, rng.uniform(0.01, 0.3)))
    dose = rng.choice((0.0, 0.0, rng.uniform(0.5, 9.0), rng.uniform(10.0, 1000.0)))
    p = [cx, cy, angle, scale, float(rng.random() < 0.5), sigma, noise, dose]
    if rng.random() < 0.04:  # absurd geometry: the shared clamp and the NaN rule
        column = rng.choice((0, 1, 2, 3))
        p[column] = rng.choice((float("nan"), float("inf"), -float("inf"), 1e20, -1e20))
    return p


def make_config(index: int, rng: random.Random) -> Config:
    channels = rng.choice((1, 1, 2, 3)) if rng.random() < 0.75 else rng.randint(4, 70)
    batch = rng.randint(1, 4) if channels <= 16 else rng.randint(1, 2)
    in_hw, out_hw = _sizes(rng, channels)
    dtype = rng.choice((torch.uint8, torch.uint16, torch.float32))
    g = torch.Generator().manual_seed(index)
    if dtype == torch.float32:
        images = torch.rand((batch, channels, *in_hw), generator=g)
    else:
        high = 256 if dtype == torch.uint8 else 65536
        images = torch.randint(0, high, (batch, channels, *in_hw), generator=g, dtype=torch.int64).to(dtype)
    params = torch.tensor([_sample_params(rng, in_hw, out_hw) for _ in range(batch)], dtype=torch.float32)
    nearest = [rng.random() < 0.15 for _ in range(channels)]
    degrade = [not n and rng.random() < 0.85 for n in nearest]
    which = rng.random()
    return Config(index, images, params, out_hw, rng.getrandbits(64), rng.choice((torch.float32, torch.bfloat16)),
                  clean=which < 0.8, degraded=which >= 0.1, degrade=degrade, nearest=nearest,
                  seed_on_device=rng.random() < 0.3, order=ORDERS[index % 3], sms=rng.randint(1, 5),
                  isa=("avx2", "generic")[index % 2])


def cpu_degrade(cfg: Config) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``emkit._C.degrade_cpu`` on the configuration (raw entry: no Python-side checks)."""
    from emkit.ops._backend import native

    b, c, in_h, in_w = cfg.images.shape
    h, w = cfg.size
    outs = [torch.empty((b, c, h, w), dtype=cfg.out_dtype) if want else None for want in (cfg.clean, cfg.degraded)]
    os.environ["EMKIT_CPU_ISA"] = cfg.isa
    native().degrade_cpu(cfg.images.data_ptr(), _IN[cfg.images.dtype], b, c, in_h, in_w, cfg.params.data_ptr(), h, w,
                         outs[0].data_ptr() if outs[0] is not None else 0,
                         outs[1].data_ptr() if outs[1] is not None else 0, _OUT[cfg.out_dtype], cfg.seed,
                         [int(f) for f in cfg.degrade], [int(f) for f in cfg.nearest], 1)
    return outs[0], outs[1]


def run_emulated(cfg: Config, order: str) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    clean, degraded, _ = emulated_degrade(
        cfg.images, cfg.params, cfg.size, cfg.seed, out_dtype=cfg.out_dtype, clean=cfg.clean,
        degraded=cfg.degraded, degrade_channels=cfg.degrade, nearest_channels=cfg.nearest,
        seed_on_device=cfg.seed_on_device, order=order, order_seed=cfg.index, sms=cfg.sms)
    return clean, degraded


def _masks(cfg: Config, degraded_output: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per (sample, channel): tolerance, nearest mask, Poisson mask (broadcastable to outputs)."""
    p = cfg.params.double()
    scale = p[:, 3].abs().nan_to_num(nan=0.0, posinf=1024.0).clamp(max=1024.0)
    tol = (3e-5 + 1.5e-5 * scale).view(-1, 1, 1, 1)
    nearest = torch.tensor(cfg.nearest).view(1, -1, 1, 1)
    degrade = torch.tensor(cfg.degrade).view(1, -1, 1, 1) & ~nearest
    dose = (p[:, 7].nan_to_num(nan=0.0) > 0).view(-1, 1, 1, 1)
    poisson = dose & degrade if degraded_output else torch.zeros_like(dose & degrade)
    return tol, nearest, poisson


def compare(cfg: Config, gpu: torch.Tensor, cpu: torch.Tensor, name: str, summary: Summary,
            degraded_output: bool) -> None:
    holes = int(torch.isnan(gpu.float()).sum())
    if holes:
        summary.failures.append(f"{cfg.describe()}: {name} has {holes} unwritten (NaN) elements")
        return
    a, b = gpu.double(), cpu.double()
    err = (a - b).abs()
    tol, nearest, poisson = _masks(cfg, degraded_output)
    if cfg.out_dtype == torch.bfloat16:
        tol = tol + 2.0 ** (torch.floor(torch.log2(b.abs().clamp(min=2**-100))) - 7)
    bad = err > tol
    shape = err.shape
    nearest_b, poisson_b = nearest.expand(shape), poisson.expand(shape)
    strict = ~nearest_b & ~poisson_b
    summary.strict_pixels += int(strict.sum())
    if strict.any():
        summary.strict_max_err = max(summary.strict_max_err, float(err[strict].max()))
        ratio = (err / tol.expand(shape))[strict].max()
        summary.strict_worst_err_over_tol = max(summary.strict_worst_err_over_tol, float(ratio))
    if (bad & strict).any():
        idx = tuple(int(i) for i in (bad & strict).nonzero()[0])
        summary.failures.append(f"{cfg.describe()}: {name} off by {float(err[idx]):.3g} at {idx} "
                                f"(params {cfg.params[idx[0]].tolist()})")
    summary.nearest_pixels += int(nearest_b.sum())
    summary.nearest_mismatches += int((bad & nearest_b).sum())
    n_poisson = int(poisson_b.sum())
    if n_poisson:
        wrong = int((bad & poisson_b).sum())
        summary.poisson_pixels += n_poisson
        summary.poisson_mismatches += wrong
        summary.worst_poisson_rate = max(summary.worst_poisson_rate, wrong / n_poisson)


def note_coverage(cfg: Config, summary: Summary) -> None:
    b, c = cfg.images.shape[:2]
    h, w = cfg.size
    tiles = math.ceil(h / 32) * math.ceil(w / 64)
    summary.count(f"in_{str(cfg.images.dtype).split('.')[-1]}")
    summary.count(f"out_{str(cfg.out_dtype).split('.')[-1]}")
    summary.count("pair" if cfg.clean and cfg.degraded else ("clean_only" if cfg.clean else "degraded_only"))
    summary.count("width_not_multiple_of_4", int(w % 4 != 0))
    summary.count("several_tiles", int(tiles > 1))
    summary.count("channels_over_16", int(c > 16))
    summary.count("nearest_channel", int(any(cfg.nearest)))
    summary.count("seed_on_device", int(cfg.seed_on_device))
    dose = cfg.params[:, 7].nan_to_num(nan=0.0)
    summary.count("poisson_inversion", int(((dose > 0) & (dose < 10)).any()))
    summary.count("poisson_rejection", int((dose >= 10).any()))
    summary.count("absurd_geometry", int((~torch.isfinite(cfg.params[:, :4]) | (cfg.params[:, :4].abs() > 1e10)).any()))
    summary.count("interior_tiles", int(interior_tiles(cfg) > 0))
    summary.count("border_tiles", int(interior_tiles(cfg) < b * c * tiles))
    summary.count("blocks", b * c * tiles)
    summary.count("max_channels_seen", 0)
    summary.coverage["max_channels_seen"] = max(summary.coverage["max_channels_seen"], c)


def interior_tiles(cfg: Config) -> int:
    """Tiles whose canvas footprint lies inside the image (degrade_kernel.cuh: the interior path).

    A coverage estimate (same rule, double precision, the blur radius of degraded planes
    ignored), so the sweep can show that both index paths ran.
    """
    _, c, in_h, in_w = cfg.images.shape
    h, w = cfg.size
    count = 0
    for row in cfg.params.double().tolist():
        cx, cy, angle, scale, flip = row[:5]
        if not all(math.isfinite(v) for v in (cx, cy, angle, scale)) or abs(scale) > 1e3:
            continue
        co, si = math.cos(angle) * scale, math.sin(angle) * scale
        f = -1.0 if flip >= 0.5 else 1.0
        for ty in range(math.ceil(h / 32)):
            for tx in range(math.ceil(w / 64)):
                us, vs = [], []
                for i in (ty * 32, ty * 32 + 31):
                    for j in (tx * 64, tx * 64 + 63):
                        x, y = (j + 0.5 - w / 2) * f, i + 0.5 - h / 2
                        us.append(cx - 0.5 + co * x - si * y)
                        vs.append(cy - 0.5 + si * x + co * y)
                if min(us) >= 1 and max(us) + 2 <= in_w - 1 and min(vs) >= 1 and max(vs) + 2 <= in_h - 1:
                    count += c
    return count


def same_bits(a: tuple[torch.Tensor | None, ...], b: tuple[torch.Tensor | None, ...]) -> bool:
    """Bitwise equality of two output tuples (NaN payloads and signed zeros included)."""
    def bits(t: torch.Tensor) -> torch.Tensor:
        return t.view(torch.int16 if t.dtype == torch.bfloat16 else torch.int32)

    return all(x is None and y is None or (x is not None and y is not None and torch.equal(bits(x), bits(y)))
               for x, y in zip(a, b))


def run(configs: int, seed: int) -> Summary:
    rng = random.Random(seed)
    summary = Summary()
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    for k in range(configs):
        cfg = make_config(seed * 100_000 + k, rng)
        note_coverage(cfg, summary)
        try:
            gpu = run_emulated(cfg, cfg.order)
        except RuntimeError as exc:
            summary.failures.append(f"{cfg.describe()}: {exc}")
            continue
        cpu = cpu_degrade(cfg)
        for name, g, c in (("clean", gpu[0], cpu[0]), ("degraded", gpu[1], cpu[1])):
            if g is not None:
                compare(cfg, g, c, name, summary, degraded_output=name == "degraded")
        if k % 5 == 0:
            summary.order_checks += 1
            for order in ORDERS:
                if order != cfg.order and not same_bits(gpu, run_emulated(cfg, order)):
                    summary.failures.append(f"{cfg.describe()}: {order} order gives different bits")
        summary.configs += 1
    summary.seconds = time.perf_counter() - t0
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    summary = run(args.configs, args.seed)
    print(json.dumps(summary.__dict__, indent=1))
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
