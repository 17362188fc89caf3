"""emkit's intensity normalisation written as bioimage.io pre-processing steps, and applied.

``input_steps`` turns the rule ``emkit predict`` would use for a run (the run's ``data``
section, ``emkit.data.intensity``) into the spec's operations, for images of the
stored type ``dtype``:

* per-image percentile rules (``percentile``; ``auto`` on anything but uint8) become
  ``scale_range`` over (channel, y, x) with the same percentiles, then ``clip`` to
  [0, 1]. The spec's ``scale_range`` divides by ``hi - lo + eps`` (``eps`` must be > 0;
  1e-6 is used), emkit's by ``hi - lo``: a relative difference of ``1e-6 / (hi - lo)``;
* every other rule is a fixed linear map for a given dtype (``Scaling``:
  ``(x / pre - shift) / span + base``), written as ``scale_linear`` (gain, offset) and
  ``clip`` when the rule clips -- exact up to float rounding.

The model's own ``[0, 1] -> 2x - 1`` step and the output activation are inside the
exported weights (``emkit.export.wrapper``), so there is no post-processing step.

``apply_steps`` runs such a list on a numpy array the way the spec defines the
operations (``bioimageio.core`` does the same): the package loader uses it, so a
package is run exactly as its ``rdf.yaml`` says, not as emkit would guess.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from emkit.data.intensity import AutoRule, IntensityConfig, PercentileRule
from emkit.errors import EmkitError

#: ``scale_range``'s epsilon (the spec requires > 0).
EPS = 1e-6
#: Axes of every emkit package tensor, in order.
AXES = ("batch", "channel", "y", "x")


def input_steps(run_data: Optional[Mapping[str, Any]], dtype: np.dtype) -> list[dict[str, Any]]:
    """The pre-processing steps equivalent to the run's normalisation of ``dtype`` images."""
    rule = IntensityConfig.from_mapping(run_data).rule()
    steps: list[dict[str, Any]] = [{"id": "ensure_dtype", "kwargs": {"dtype": "float32"}}]
    percentile = isinstance(rule, PercentileRule) or (isinstance(rule, AutoRule) and np.dtype(dtype) != np.uint8)
    if percentile:
        low, high = float(rule.low), float(rule.high)  # type: ignore[attr-defined]
        steps.append({"id": "scale_range", "kwargs": {"axes": ["channel", "y", "x"], "min_percentile": low,
                                                      "max_percentile": high, "eps": EPS}})
        steps.append({"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}})
    else:
        s = rule.fit(np.dtype(dtype), lambda limit: np.zeros(1, dtype))
        gain = 1.0 / (s.pre * s.span)
        offset = s.base - s.shift / s.span
        if gain != 1.0 or offset != 0.0:
            steps.append({"id": "scale_linear", "kwargs": {"gain": gain, "offset": offset}})
        if s.clip:
            steps.append({"id": "clip", "kwargs": {"min": 0.0, "max": 1.0}})
    steps.append({"id": "ensure_dtype", "kwargs": {"dtype": "float32"}})
    return steps


def describe_steps(steps: Sequence[Mapping[str, Any]]) -> str:
    """One readable line per step (documentation)."""
    lines = []
    for step in steps:
        kw = step.get("kwargs") or {}
        args = ", ".join(f"{k}={v}" for k, v in kw.items())
        lines.append(f"{step['id']}({args})")
    return " -> ".join(lines)


def apply_steps(steps: Sequence[Mapping[str, Any]], x: np.ndarray, axes: Sequence[str] = AXES) -> np.ndarray:
    """``x`` (laid out as ``axes``) through ``steps``; unknown operations are an ``EmkitError``."""
    out = np.asarray(x)
    for step in steps:
        op, kw = step.get("id"), dict(step.get("kwargs") or {})
        if op == "ensure_dtype":
            out = out.astype(np.dtype(kw["dtype"]), copy=False)
        elif op == "scale_linear":
            out = out.astype(np.float32) * np.float32(kw.get("gain", 1.0)) + np.float32(kw.get("offset", 0.0))
        elif op == "clip":
            out = np.clip(out, kw.get("min"), kw.get("max"))
        elif op == "scale_range":
            out = _scale_range(out, kw, axes)
        else:
            raise EmkitError(f"pre-processing step {op!r} is not supported by emkit's package loader "
                             "(supported: ensure_dtype, scale_linear, scale_range, clip)")
    return out


def _scale_range(x: np.ndarray, kw: Mapping[str, Any], axes: Sequence[str]) -> np.ndarray:
    names = kw.get("axes")
    reduce = tuple(range(x.ndim)) if names is None else tuple(list(axes).index(a) for a in names)
    lo, hi = np.percentile(x.astype(np.float64), [float(kw.get("min_percentile", 0.0)),
                                                  float(kw.get("max_percentile", 100.0))], axis=reduce, keepdims=True)
    eps = float(kw.get("eps", EPS))
    return ((x - lo) / (hi - lo + eps)).astype(np.float32)
