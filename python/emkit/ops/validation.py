"""Argument checks of the fused degradation op (one home for each rule).

Every check raises one ``ValueError`` naming the argument and what was expected; the
custom ops only ever see tensors and sizes that passed them. :func:`parse_size` is also
what :func:`emkit.ops.sample_degrade_params` uses for its sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

#: An output side may be at most this many times the input side.
MAX_UPSCALE = 4
#: Most channels one call accepts.
MAX_CHANNELS = 1024
#: Input / output dtypes and their codes in emkit._C.
IN_DTYPES = {torch.uint8: 0, torch.uint16: 1, torch.float32: 2}
OUT_DTYPES = {torch.float32: 0, torch.bfloat16: 1}
_U64 = 1 << 64


def check_images(images: object) -> Tensor:
    if not isinstance(images, Tensor):
        raise ValueError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {images.dim()} dims {tuple(images.shape)}")
    if images.dtype not in IN_DTYPES:
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


def check_params(params: object, images: Tensor) -> Tensor:
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


def parse_size(name: str, value: object) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair of positive ints; ValueError naming ``name`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    try:
        h, w = value  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (height, width), got {value!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (h, w)):
        raise ValueError(f"{name} must be two positive ints (height, width), got {value!r}")
    return int(h), int(w)


def check_output_size(output_size: object, images: Tensor) -> tuple[int, int]:
    h, w = parse_size("output_size", output_size)
    in_h, in_w = int(images.shape[2]), int(images.shape[3])
    if h > MAX_UPSCALE * in_h or w > MAX_UPSCALE * in_w:
        raise ValueError(
            f"output_size {(h, w)} is more than {MAX_UPSCALE}x the input size {(in_h, in_w)} in some side"
        )
    return h, w


def check_seed(seed: object, images: Tensor) -> Tensor:
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


def check_out_dtype(out_dtype: object) -> torch.dtype:
    if out_dtype not in OUT_DTYPES:
        raise ValueError(f"out_dtype must be torch.float32 or torch.bfloat16, got {out_dtype!r}")
    return out_dtype  # type: ignore[return-value]


def check_flags(name: str, flags: Sequence[bool] | None, channels: int, default: bool) -> list[bool]:
    if flags is None:
        return [default] * channels
    if isinstance(flags, (str, bytes, Tensor)) or not isinstance(flags, Sequence):
        raise ValueError(f"{name} must be a sequence of {channels} bools, got {type(flags).__name__}")
    if len(flags) != channels:
        raise ValueError(f"{name} must have one entry per channel ({channels}), got {len(flags)}")
    return [bool(f) for f in flags]
