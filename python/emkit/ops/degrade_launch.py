"""One call of the fused degradation op, and how it is run: native kernel or reference.

:class:`LaunchCall` holds a checked call (the inputs, the outputs to fill, the channel
flags); :func:`launch` asks :mod:`emkit.ops.dispatch` which implementation runs on the
images' device -- the first time a CUDA device is used, that runs the self-check of
:mod:`emkit.ops.self_check` -- and fills the outputs with the native kernel
(:func:`launch_native`: raw pointers and the current CUDA stream to ``emkit._C``) or with
the pure-torch reference (:func:`launch_reference`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from emkit.ops import dispatch
from emkit.ops._backend import native
from emkit.ops.validation import IN_DTYPES, OUT_DTYPES

_U64 = 1 << 64


@dataclass
class LaunchCall:
    """A checked call: outputs ``clean`` / ``degraded`` (either may be None) are written in place."""

    images: Tensor
    params: Tensor
    out_h: int
    out_w: int
    seed: Tensor  # one int64 (seeds >= 2**63 stored negative), on the CPU or the images' device
    out_dtype: torch.dtype
    clean: Tensor | None
    degraded: Tensor | None
    degrade_channels: list[bool]
    nearest_channels: list[bool]


def empty_output(images: Tensor, out_h: int, out_w: int, out_dtype: torch.dtype) -> Tensor:
    b, c = images.shape[:2]
    return torch.empty((b, c, out_h, out_w), dtype=out_dtype, device=images.device)


def launch_native(call: LaunchCall) -> None:
    """The native kernel of the images' device (``emkit._C``), on the current CUDA stream."""
    images = call.images
    b, c, in_h, in_w = images.shape
    on_device = call.seed.device.type == "cuda"
    args = (images.data_ptr(), IN_DTYPES[images.dtype], b, c, in_h, in_w, call.params.data_ptr(), call.out_h,
            call.out_w, 0 if call.clean is None else call.clean.data_ptr(),
            0 if call.degraded is None else call.degraded.data_ptr(), OUT_DTYPES[call.out_dtype],
            0 if on_device else int(call.seed) % _U64, [int(f) for f in call.degrade_channels],
            [int(f) for f in call.nearest_channels])
    if images.device.type == "cpu":
        native().degrade_cpu(*args, torch.get_num_threads())
        return
    from emkit.ops._backend import device_capability

    # Cached per device; raises BackendError (with the CUDA error) when emkit's runtime
    # cannot use it -- or when the extension was built without CUDA.
    device_capability(images.device.index if images.device.index is not None else torch.cuda.current_device())
    seed_dev = call.seed.contiguous() if on_device else None
    workspace = torch.empty(native().degrade_cuda_workspace_bytes(b), dtype=torch.uint8, device=images.device)
    with torch.cuda.device(images.device):
        native().degrade_cuda(*args, 0 if seed_dev is None else seed_dev.data_ptr(), workspace.data_ptr(),
                              torch.cuda.current_stream(images.device).cuda_stream)


def launch_reference(call: LaunchCall) -> None:
    """The pure-torch reference on the images' device, written into the outputs (the fallback)."""
    from emkit.ops._reference import reference_degrade

    ref_clean, ref_degraded = reference_degrade(call.images, call.params, (call.out_h, call.out_w),
                                                int(call.seed) % _U64, degrade_channels=call.degrade_channels,
                                                nearest_channels=call.nearest_channels)
    if call.clean is not None:
        call.clean.copy_(ref_clean.float())
    if call.degraded is not None:
        call.degraded.copy_(ref_degraded.float())


def _self_check(device: torch.device) -> str | None:
    from emkit.ops import self_check

    # launch_native is looked up when the check runs, so tests can replace it.
    return self_check.check_device(device, lambda *fields: launch_native(LaunchCall(*fields)))


def launch(call: LaunchCall) -> None:
    """Fill the call's outputs with the implementation :mod:`emkit.ops.dispatch` picks for its device."""
    device = call.images.device
    if dispatch.choose(device, _self_check) == "native":
        try:
            launch_native(call)
            return
        except RuntimeError as exc:
            if dispatch.ops_mode() == "native" or device.type not in dispatch.SELF_CHECKED:
                raise
            dispatch.fall_back(device, f"{type(exc).__name__}: {exc}")
    launch_reference(call)
