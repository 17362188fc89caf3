"""Fused warp + degradation: random crops and their degraded copies in one pass.

:func:`degrade_pair` and :func:`warp_and_degrade` replace a chain of augmentations
(crop, rotate, flip, blur, noise) with one C++/CUDA kernel that reads each input pixel it
needs once, converts 8/16-bit inputs on the fly and writes the outputs directly. They are
registered as ``torch.library`` custom ops (``emkit::degrade_pair``,
``emkit::warp_and_degrade``) so they compose with ``torch.compile``.

Semantics (the pure-torch definition is :mod:`emkit.ops._reference`):

* **Geometry.** Output pixel ``(i, j)`` of an ``H x W`` output has centred coordinates
  ``x = j + 0.5 - W/2``, ``y = i + 0.5 - H/2``. ``x`` is negated when ``flip`` is set;
  ``(x, y)`` is rotated by ``angle`` (radians, counter-clockwise in x-right/y-down image
  coordinates: ``u = cos*x - sin*y``, ``v = sin*x + cos*y``), multiplied by ``scale`` and
  moved to the crop centre ``(cx, cy)`` (input pixels; pixel ``k`` spans ``[k, k + 1]``,
  its centre is ``k + 0.5``). The input is sampled there bilinearly; outside the image
  it is extended by half-sample symmetric reflection about the image edges (pixel ``-1``
  is pixel ``0``, pixel ``W`` is pixel ``W - 1``, period ``2W``), which is exactly
  ``grid_sample(padding_mode="reflection", align_corners=False)``. Nearest channels take
  the pixel ``floor(coordinate + 0.5)`` (ties round up) of the same extension. All
  channels share the geometry. Absurd geometry is clamped first, the same way in every
  implementation: ``cx``, ``cy`` to ``[-2**30, 2**30]`` and ``scale`` to ``[-1024, 1024]``
  (infinite values included); a NaN coordinate samples index coordinate 0 on its axis.
* **Blur.** Gaussian with the sample's ``sigma`` (clamped to 5), taps
  ``exp(-k^2 / (2 sigma^2))`` for ``|k| <= ceil(3 sigma)``, normalised to sum 1, applied
  separably (rows, then columns) to the warped image *as if it continued beyond the
  crop*: the halo is warped from the real input, not padded. ``sigma = 0``: no blur.
* **Poisson shot noise** (``dose > 0``): ``Poisson(dose * max(v, 0)) / dose``, exact
  sampler (inversion below mean 10, Hormann's PTRS transformed rejection above).
* **Gaussian noise** (``noise > 0``): ``v + noise * z``, ``z ~ N(0, 1)`` by Box-Muller.
* Order: warp -> blur -> Poisson -> Gaussian. Values are **not clamped** (noise can push
  them below 0 or above 1; clamp yourself if the model needs it).
* **Randomness** comes from Philox4x32-10 keyed by ``seed`` and counted by (sample,
  channel, pixel), so the noise does not depend on thread count, tiling or device. Outputs
  are bit-identical for any CPU thread count; the AVX2 and portable CPU paths and the CUDA
  kernel agree to float rounding (~1e-5 x max(1, scale): the vectorised paths use float
  offsets from a double-precision origin; a Poisson count can differ by one where a rate
  sits within rounding of a decision boundary, ~2e-5 of Poisson-noised pixels between the
  CPU and the CUDA kernel). Gaussian: row ``i`` of
  plane ``(b, c)`` uses blocks ``philox(seed, stream 1, ((b*C + c)*H + i)*ceil(W/4) + j//4)``; Poisson uses
  ``philox(seed, stream 2, (g << 40) + ((b*C + c)*H + i)*W + j)`` for attempt group ``g``.
  Use a new seed per batch (e.g. ``seed = (base_seed << 32) + step``). The seed may be a
  Python int or a one-element int64 tensor (on the CPU or the images' device); under
  ``torch.compile`` pass a tensor -- on CUDA the kernel reads it from device memory, so a
  compiled graph (CUDA graphs included) is traced once and draws new noise whenever the
  tensor's value changes.

Inputs are ``(B, C, Hin, Win)`` uint8, uint16 or float32 tensors (integers scaled to
[0, 1]: multiplied by the float32 1/255 or 1/65535 after interpolation), contiguous, on
CPU or CUDA; ``params`` is the ``(B, 8)`` float32 tensor of
:data:`~emkit.ops.degrade_params.PARAM_COLUMNS` on the same device. Outputs are float32 or
bfloat16 (round to nearest even from the float result).

The ops are **not differentiable**: they are data-pipeline ops, no gradient flows to
``images`` or ``params`` (calling ``backward`` through them raises).

CPU: ``torch.get_num_threads()`` threads of emkit's own blocking pool (no spin-waiting
next to torch's OpenMP threads, safe in forked DataLoader workers); AVX2+FMA path when
the CPU has it, ``EMKIT_CPU_ISA=generic`` forces the portable path (for testing). CUDA: one
kernel on the current stream, asynchronous like any torch op; the first call on each
CUDA device self-checks the kernel against the pure-torch reference in a child process
and falls back to the reference if it fails (see :mod:`emkit.ops.self_check` and
:mod:`emkit.ops.dispatch`; ``EMKIT_OPS`` forces a path). Argument checks live in
:mod:`emkit.ops.validation`, the launch in :mod:`emkit.ops.degrade_launch`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from emkit.ops.degrade_launch import LaunchCall, empty_output, launch
from emkit.ops.validation import (
    check_flags,
    check_images,
    check_out_dtype,
    check_output_size,
    check_params,
    check_seed,
)


@torch.library.custom_op("emkit::degrade_pair", mutates_args=())
def _degrade_pair_op(
    images: Tensor, params: Tensor, out_h: int, out_w: int, seed: Tensor, out_dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    clean = empty_output(images, out_h, out_w, out_dtype)
    degraded = empty_output(images, out_h, out_w, out_dtype)
    c = images.shape[1]
    launch(LaunchCall(images, params, out_h, out_w, seed, out_dtype, clean, degraded, [True] * c, [False] * c))
    return clean, degraded


@_degrade_pair_op.register_fake
def _(images, params, out_h, out_w, seed, out_dtype):
    return empty_output(images, out_h, out_w, out_dtype), empty_output(images, out_h, out_w, out_dtype)


@torch.library.custom_op("emkit::warp_and_degrade", mutates_args=())
def _warp_and_degrade_op(
    images: Tensor,
    params: Tensor,
    out_h: int,
    out_w: int,
    seed: Tensor,
    out_dtype: torch.dtype,
    degrade_channels: list[bool],
    nearest_channels: list[bool],
) -> Tensor:
    out = empty_output(images, out_h, out_w, out_dtype)
    launch(LaunchCall(images, params, out_h, out_w, seed, out_dtype, None, out, degrade_channels, nearest_channels))
    return out


@_warp_and_degrade_op.register_fake
def _(images, params, out_h, out_w, seed, out_dtype, degrade_channels, nearest_channels):
    return empty_output(images, out_h, out_w, out_dtype)


# ------------------------------------------------------------------ public API ------------
def degrade_pair(
    images: Tensor,
    params: Tensor,
    output_size: tuple[int, int],
    seed: int | Tensor,
    *,
    out_dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor]:
    """Warp a batch into crops and degrade them: returns ``(clean, degraded)``, both ``(B, C, H, W)``.

    ``clean`` is the warped crop (no blur, no noise); ``degraded`` is the same crop blurred
    and noised as the sample's parameters say, on every channel. Both are written in one
    pass that reads the input once: the pretext pair for restoration pretraining. See the
    module docstring for the exact semantics; not differentiable.

    Args:
        images: ``(B, C, Hin, Win)`` uint8 / uint16 / float32, contiguous, CPU or CUDA.
        params: ``(B, 8)`` float32 on the same device (see
            :func:`~emkit.ops.degrade_params.sample_degrade_params`).
        output_size: ``(H, W)`` of the outputs, each side at most 4x the input side.
        seed: Philox key in ``[0, 2**64)`` (int, or a one-element int64 tensor on the CPU or
            the images' device, read at run time -- use a tensor under ``torch.compile``);
            same seed and inputs give the same noise.
        out_dtype: ``torch.float32`` or ``torch.bfloat16``.

    Raises:
        ValueError: naming the argument, for a bad shape, dtype, device, layout, size or seed.
    """
    images = check_images(images)
    params = check_params(params, images)
    out_h, out_w = check_output_size(output_size, images)
    seed64 = check_seed(seed, images)
    out_dtype = check_out_dtype(out_dtype)
    return _degrade_pair_op(images, params, out_h, out_w, seed64, out_dtype)


def warp_and_degrade(
    images: Tensor,
    params: Tensor,
    output_size: tuple[int, int],
    seed: int | Tensor,
    *,
    degrade_channels: Sequence[bool] | None = None,
    nearest_channels: Sequence[bool] | None = None,
    out_dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Warp every channel with the sample's geometry and degrade the chosen ones: ``(B, C, H, W)``.

    Use it for image + target stacks: e.g. ``images = cat([em, mask])`` with
    ``degrade_channels=[True, False]`` and ``nearest_channels=[False, True]`` gives a
    degraded EM crop and its mask warped identically, the mask with nearest sampling so
    labels stay labels. Nearest channels are never blurred or noised; channels not in
    ``degrade_channels`` come out warped only. A channel's noise does not depend on the
    other channels' flags. Same semantics as :func:`degrade_pair` otherwise; not
    differentiable.

    Args:
        images, params, output_size, seed, out_dtype: as in :func:`degrade_pair`.
        degrade_channels: one bool per channel, blur + noise on True (default: all True,
            except nearest channels).
        nearest_channels: one bool per channel, nearest sampling on True (default: none).

    Raises:
        ValueError: naming the argument, for bad inputs or a channel both degraded and
            nearest.
    """
    images = check_images(images)
    params = check_params(params, images)
    out_h, out_w = check_output_size(output_size, images)
    seed64 = check_seed(seed, images)
    out_dtype = check_out_dtype(out_dtype)
    c = int(images.shape[1])
    nearest = check_flags("nearest_channels", nearest_channels, c, False)
    if degrade_channels is None:
        degrade = [not n for n in nearest]
    else:
        degrade = check_flags("degrade_channels", degrade_channels, c, True)
        both = [k for k in range(c) if degrade[k] and nearest[k]]
        if both:
            raise ValueError(f"degrade_channels and nearest_channels both set channel(s) {both}; "
                             "nearest channels are never degraded")
    return _warp_and_degrade_op(images, params, out_h, out_w, seed64, out_dtype, degrade, nearest)
