"""Random initialisation schemes: downstream training from scratch (``init=random``) and
the generator a pretext starts from.

The built-in generators apply the pix2pix scheme when built; a pretext with a
``random_init`` field (the built-in ones: ``default``) re-initialises them with its
scheme, a task with ``task.random_init``. A *downstream* run from random weights is the baseline that
pretraining is measured against, so it must start from a standard initialisation that
trains well on its own; ``task.random_init`` chooses (a task without that field gets
``default``):

* ``default`` -- PyTorch's own per-layer default (``reset_parameters``: convolutions
  Kaiming-uniform with a = sqrt(5), i.e. U(±1/sqrt(fan_in)), biases U(±1/sqrt(fan_in));
  norms weight 1, bias 0, fresh running statistics). Chosen as the default: see
  ``benchmarks/results/fair_baseline_cpu.md`` for the measurement on emkit's synthetic tasks.
* ``kaiming`` -- He et al. 2015 normal, fan_out, ReLU gain (what torchvision's ResNets
  use); biases 0; norms weight 1, bias 0.
* ``pix2pix`` -- N(0, 0.02) convolutions, N(1, 0.02) norm scales, zero biases (what the
  built-in generators apply when built; its tiny weights keep the output constant for tens
  of steps at Adam 2e-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from emkit.errors import ConfigError

SCHEMES = ("default", "kaiming", "pix2pix")
#: The scheme of a downstream run from random weights whose task has no ``random_init``.
DEFAULT_SCHEME = "default"


def task_scheme(task_config: Any) -> str:
    """The scheme a run of this task applies from random weights: its ``random_init``
    (a config object or a run's recorded mapping), else ``DEFAULT_SCHEME``."""
    if isinstance(task_config, Mapping):
        value = task_config.get("random_init")
    else:
        value = getattr(task_config, "random_init", None)
    return str(value) if value else DEFAULT_SCHEME

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)


def apply_init(module: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise every conv/linear/norm layer of ``module`` in place with ``scheme``.

    Uses torch's global RNG, so a seeded run gets the same weights every time.
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"Invalid value for 'random_init': expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    for m in module.modules():
        if isinstance(m, _CONVS):
            if scheme == "default":
                m.reset_parameters()
                continue
            if scheme == "kaiming":
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            else:
                nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS):
            if hasattr(m, "reset_running_stats"):
                m.reset_running_stats()
            if getattr(m, "weight", None) is not None:
                if scheme == "pix2pix":
                    nn.init.normal_(m.weight, 1.0, 0.02)
                else:
                    nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    return module
