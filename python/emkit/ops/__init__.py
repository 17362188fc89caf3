"""emkit's native data ops (``emkit._C``) and their pure-torch references.

``backend_info()`` says what the extension was built with; kernels are called through
the thin wrappers in this package, which validate tensors and pass raw pointers and the
current CUDA stream to the framework-free C++/CUDA code.
"""

from emkit.ops.backend_info import backend_info
from emkit.ops.dispatch import ops_mode, ops_summary, set_ops_mode
from emkit.ops.random import philox4x32_10, philox_uint32

__all__ = ["backend_info", "ops_mode", "ops_summary", "philox4x32_10", "philox_uint32", "set_ops_mode"]

# Fused warp + degradation op (C++/CUDA kernels, registered as torch.library custom ops).
from emkit.ops.degrade import degrade_pair, warp_and_degrade  # noqa: E402
from emkit.ops.degrade_params import PARAM_COLUMNS, DegradeRanges, sample_degrade_params  # noqa: E402

__all__ += ["DegradeRanges", "PARAM_COLUMNS", "degrade_pair", "sample_degrade_params", "warp_and_degrade"]
