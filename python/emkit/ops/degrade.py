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
  channels share the geometry.
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
  kernel agree to float rounding (~1e-5; a Poisson count can differ by one where a rate
  sits within rounding of a decision boundary, ~1e-6 of pixels). Gaussian: row ``i`` of
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
CUDA device self-checks the kernel against the pure-torch reference and falls back to
the reference if it fails (see :mod:`emkit.ops.dispatch`; ``EMKIT_OPS`` forces a path).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from emkit.ops import dispatch
from emkit.ops._backend import native

#: An output side may be at most this many times the input side.
MAX_UPSCALE = 4
#: Most channels one call accepts.
MAX_CHANNELS = 1024

_IN_DTYPES = {torch.uint8: 0, torch.uint16: 1, torch.float32: 2}
_OUT_DTYPES = {torch.float32: 0, torch.bfloat16: 1}
_U64 = 1 << 64


# ----------------------------------------------------------------- validation -------------
def _check_images(images: object) -> Tensor:
    if not isinstance(images, Tensor):
        raise ValueError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {images.dim()} dims {tuple(images.shape)}")
    if images.dtype not in _IN_DTYPES:
        raise ValueError(f"images must be uint8, uint16 or float32, got {images.dtype}")
    if images.device.type not in ("cpu", "cuda"):
        raise ValueError(f"images must be on a cpu or cuda device, got {images.device}")
    b, c, h, w = images.shape
    if b == 0:
        raise ValueError("images must hold at least one sample, got an empty batch (B = 0)")
    if c == 0 or h == 0 or w == 0:
        raise ValueError(f"images must have C, H, W >= 1, got {tuple(images.shape)}")
    if c > MAX_CHANNELS:
        raise ValueError(f"images must have at most {MAX_CHANNELS} channels, got {c}")
    if h * w >= 2**31:
        raise ValueError(f"images planes must hold fewer than 2**31 pixels, got {h}x{w}")
    if not images.is_contiguous():
        raise ValueError("images must be contiguous (call .contiguous() first)")
    return images


def _check_params(params: object, images: Tensor) -> Tensor:
    if not isinstance(params, Tensor):
        raise ValueError(f"params must be a torch.Tensor, got {type(params).__name__}")
    if params.dim() != 2 or params.shape[0] != images.shape[0] or params.shape[1] != 8:
        raise ValueError(f"params must have shape (B, 8) = ({images.shape[0]}, 8), got {tuple(params.shape)}")
    if params.dtype != torch.float32:
        raise ValueError(f"params must be float32, got {params.dtype}")
    if params.device != images.device:
        raise ValueError(f"params must be on the images' device {images.device}, got {params.device}")
    if not params.is_contiguous():
        raise ValueError("params must be contiguous (call .contiguous() first)")
    return params


def _check_output_size(output_size: object, images: Tensor) -> tuple[int, int]:
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        output_size = (output_size, output_size)
    try:
        h, w = output_size  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"output_size must be (height, width), got {output_size!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (h, w)) or h <= 0 or w <= 0:
        raise ValueError(f"output_size must be two positive ints (height, width), got {output_size!r}")
    in_h, in_w = int(images.shape[2]), int(images.shape[3])
    if h > MAX_UPSCALE * in_h or w > MAX_UPSCALE * in_w:
        raise ValueError(
            f"output_size {(h, w)} is more than {MAX_UPSCALE}x the input size {(in_h, in_w)} in some side"
        )
    return int(h), int(w)


def _check_seed(seed: object, images: Tensor) -> Tensor:
    """The seed as a one-element int64 tensor (ints >= 2**63 stored as negative int64)."""
    if isinstance(seed, Tensor):
        if seed.dtype != torch.int64 or seed.numel() != 1:
            raise ValueError(f"seed tensor must hold one int64, got {seed.dtype} of shape {tuple(seed.shape)}")
        if seed.device.type != "cpu" and seed.device != images.device:
            raise ValueError(f"seed tensor must be on the CPU or the images' device {images.device}, got {seed.device}")
        return seed.reshape(())
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < _U64:
        raise ValueError(f"seed must be an int in [0, 2**64) or an int64 tensor, got {seed!r}")
    return torch.tensor(seed - _U64 if seed >= 1 << 63 else seed, dtype=torch.int64)


def _check_out_dtype(out_dtype: object) -> torch.dtype:
    if out_dtype not in _OUT_DTYPES:
        raise ValueError(f"out_dtype must be torch.float32 or torch.bfloat16, got {out_dtype!r}")
    return out_dtype  # type: ignore[return-value]


def _check_flags(name: str, flags: Sequence[bool] | None, channels: int, default: bool) -> list[bool]:
    if flags is None:
        return [default] * channels
    if isinstance(flags, (str, bytes, Tensor)) or not isinstance(flags, Sequence):
        raise ValueError(f"{name} must be a sequence of {channels} bools, got {type(flags).__name__}")
    if len(flags) != channels:
        raise ValueError(f"{name} must have one entry per channel ({channels}), got {len(flags)}")
    return [bool(f) for f in flags]


# -------------------------------------------------------------- kernel launch -------------
def _launch_native(
    images: Tensor,
    params: Tensor,
    out_h: int,
    out_w: int,
    seed: Tensor,
    out_dtype: torch.dtype,
    clean: Tensor | None,
    degraded: Tensor | None,
    degrade_channels: list[bool],
    nearest_channels: list[bool],
) -> None:
    b, c, in_h, in_w = images.shape
    on_device = seed.device.type == "cuda"
    args = (
        images.data_ptr(),
        _IN_DTYPES[images.dtype],
        b,
        c,
        in_h,
        in_w,
        params.data_ptr(),
        out_h,
        out_w,
        0 if clean is None else clean.data_ptr(),
        0 if degraded is None else degraded.data_ptr(),
        _OUT_DTYPES[out_dtype],
        0 if on_device else int(seed) % _U64,
        [int(f) for f in degrade_channels],
        [int(f) for f in nearest_channels],
    )
    if images.device.type == "cpu":
        native().degrade_cpu(*args, torch.get_num_threads())
        return
    from emkit.ops._backend import device_capability

    # Cached per device; raises BackendError (with the CUDA error) when emkit's runtime
    # cannot use it -- or when the extension was built without CUDA.
    device_capability(images.device.index if images.device.index is not None else torch.cuda.current_device())
    seed_dev = seed.contiguous() if on_device else None
    workspace = torch.empty(native().degrade_cuda_workspace_bytes(b), dtype=torch.uint8, device=images.device)
    with torch.cuda.device(images.device):
        native().degrade_cuda(*args, 0 if seed_dev is None else seed_dev.data_ptr(), workspace.data_ptr(),
                              torch.cuda.current_stream(images.device).cuda_stream)


def _launch_reference(
    images: Tensor,
    params: Tensor,
    out_h: int,
    out_w: int,
    seed: Tensor,
    clean: Tensor | None,
    degraded: Tensor | None,
    degrade_channels: list[bool],
    nearest_channels: list[bool],
) -> None:
    """The pure-torch reference on the images' device, written into the outputs (the fallback)."""
    from emkit.ops._reference import reference_degrade

    ref_clean, ref_degraded = reference_degrade(images, params, (out_h, out_w), int(seed) % _U64,
                                                degrade_channels=degrade_channels, nearest_channels=nearest_channels)
    if clean is not None:
        clean.copy_(ref_clean.float())
    if degraded is not None:
        degraded.copy_(ref_degraded.float())


def _run_native_pair(images: Tensor, params: Tensor, size: tuple[int, int], seed: int) -> tuple[Tensor, Tensor]:
    """Native ``degrade_pair`` without dispatch (for the first-use self-check)."""
    out_h, out_w = size
    clean, degraded = _empty(images, out_h, out_w, torch.float32), _empty(images, out_h, out_w, torch.float32)
    c = images.shape[1]
    _launch_native(images, params, out_h, out_w, torch.tensor(seed), torch.float32, clean, degraded,
                   [True] * c, [False] * c)
    return clean, degraded


def _launch(
    images: Tensor,
    params: Tensor,
    out_h: int,
    out_w: int,
    seed: Tensor,
    out_dtype: torch.dtype,
    clean: Tensor | None,
    degraded: Tensor | None,
    degrade_channels: list[bool],
    nearest_channels: list[bool],
) -> None:
    device = images.device
    path = dispatch.choose(device, lambda d: dispatch.self_check_with(_run_native_pair, d))
    if path == "native":
        try:
            _launch_native(images, params, out_h, out_w, seed, out_dtype, clean, degraded, degrade_channels,
                           nearest_channels)
            return
        except RuntimeError as exc:
            if dispatch.ops_mode() == "native" or device.type not in dispatch.SELF_CHECKED:
                raise
            dispatch.fall_back(device, f"{type(exc).__name__}: {exc}")
    _launch_reference(images, params, out_h, out_w, seed, clean, degraded, degrade_channels, nearest_channels)


def _empty(images: Tensor, out_h: int, out_w: int, out_dtype: torch.dtype) -> Tensor:
    b, c = images.shape[:2]
    return torch.empty((b, c, out_h, out_w), dtype=out_dtype, device=images.device)


@torch.library.custom_op("emkit::degrade_pair", mutates_args=())
def _degrade_pair_op(
    images: Tensor, params: Tensor, out_h: int, out_w: int, seed: Tensor, out_dtype: torch.dtype
) -> tuple[Tensor, Tensor]:
    clean = _empty(images, out_h, out_w, out_dtype)
    degraded = _empty(images, out_h, out_w, out_dtype)
    c = images.shape[1]
    _launch(images, params, out_h, out_w, seed, out_dtype, clean, degraded, [True] * c, [False] * c)
    return clean, degraded


@_degrade_pair_op.register_fake
def _(images, params, out_h, out_w, seed, out_dtype):
    return _empty(images, out_h, out_w, out_dtype), _empty(images, out_h, out_w, out_dtype)


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
    out = _empty(images, out_h, out_w, out_dtype)
    _launch(images, params, out_h, out_w, seed, out_dtype, None, out, degrade_channels, nearest_channels)
    return out


@_warp_and_degrade_op.register_fake
def _(images, params, out_h, out_w, seed, out_dtype, degrade_channels, nearest_channels):
    return _empty(images, out_h, out_w, out_dtype)


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
    images = _check_images(images)
    params = _check_params(params, images)
    out_h, out_w = _check_output_size(output_size, images)
    seed64 = _check_seed(seed, images)
    out_dtype = _check_out_dtype(out_dtype)
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
    images = _check_images(images)
    params = _check_params(params, images)
    out_h, out_w = _check_output_size(output_size, images)
    seed64 = _check_seed(seed, images)
    out_dtype = _check_out_dtype(out_dtype)
    c = int(images.shape[1])
    nearest = _check_flags("nearest_channels", nearest_channels, c, False)
    if degrade_channels is None:
        degrade = [not n for n in nearest]
    else:
        degrade = _check_flags("degrade_channels", degrade_channels, c, True)
        both = [k for k in range(c) if degrade[k] and nearest[k]]
        if both:
            raise ValueError(f"degrade_channels and nearest_channels both set channel(s) {both}; "
                             "nearest channels are never degraded")
    return _warp_and_degrade_op(images, params, out_h, out_w, seed64, out_dtype, degrade, nearest)
