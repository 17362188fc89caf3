"""The I/O description of an exported model (``<file>.json`` beside it, and embedded).

Everything a consumer without emkit needs: tensor names, dtypes, layout and value
ranges, the spatial constraint (``size_multiple``; whether the model pads itself),
the receptive field and a tile overlap that reproduces whole-image results, the task
and how the training data were normalised before reaching the model's input range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emkit.export.wrapper import INPUT_NAME
from emkit.predict.model_loading import LoadedModel
from emkit.predict.tile_grid import halo, round_up


#: How the exported model reads its input (``plugin_api.to_unit``).
INPUT_MEANING = ("image intensities; an integer type's range maps onto [0, 1] (uint8 /255, uint16 /65535, "
                 "signed types min -> 0, max -> 1: int16 -32768 -> 0, 32767 -> 1); floats are used as they "
                 "are (expected in [0, 1])")


def input_range(dtype: str) -> list[float]:
    """``[min, max]`` of an integer input type; ``[0.0, 1.0]`` for floats (and "any type")."""
    if dtype in ("float32", "float32 or any integer type"):
        return [0.0, 1.0]
    info = np.iinfo(np.dtype(dtype))
    return [int(info.min), int(info.max)]


def describe(model: LoadedModel, *, fmt: str, file: str, input_dtype: str, pads: bool) -> dict[str, Any]:
    """JSON-able description of an exported ``model`` (see the module docstring)."""
    from emkit import __version__

    head = model.head
    m = model.size_multiple
    rf = model.receptive_field
    h = halo(rf, m)
    c_in = model.in_channels
    dims = ["N", c_in, "H", "W"]
    dtype = input_dtype if fmt == "onnx" else "float32 or any integer type"
    inputs = [{
        "name": INPUT_NAME,
        "dtype": dtype,
        "layout": "NCHW",
        "shape": dims,
        "range": input_range(dtype),
        "meaning": INPUT_MEANING,
    }]
    if head.kind == "image":
        outputs = [{"name": "image", "dtype": "float32", "layout": "NCHW", "shape": ["N", head.channels, "H", "W"],
                    "range": [0.0, 1.0], "meaning": "restored image, clamped to [0, 1]"}]
    else:
        classes = 2 if head.kind == "binary" else head.channels
        outputs = [
            {"name": "probability", "dtype": "float32", "layout": "NCHW", "shape": ["N", head.channels, "H", "W"],
             "range": [0.0, 1.0],
             "meaning": "foreground probability (sigmoid)" if head.kind == "binary"
             else "class probabilities (softmax over channels)"},
            {"name": "mask", "dtype": "uint8", "layout": "NCHW", "shape": ["N", 1, "H", "W"],
             "range": [0, classes - 1],
             "meaning": f"1 where probability > {head.threshold}" if head.kind == "binary" else "argmax class label"},
        ]
    trained = model.spec.get("trained_with") or {}
    return {
        "format": fmt,
        "file": file,
        "emkit_version": __version__,
        "generator": {"name": model.name, "config": model.spec.get("config", {})},
        "trained_with": trained,
        "task": trained.get("task") or trained.get("pretext"),
        "output_kind": head.kind,
        "threshold": head.threshold if head.kind == "binary" else None,
        "inputs": inputs,
        "outputs": outputs,
        "spatial": {
            "size_multiple": m,
            "pads_internally": pads,
            "constraint": "any H, W (padded by reflection to the multiple inside, cropped back)" if pads
            else f"H and W must be multiples of {m}",
            "dynamic_axes": ["N", "H", "W"],
        },
        "receptive_field": rf,
        "tiling": {
            "halo": h,
            "overlap_for_exact_tiles": None if h is None else round_up(2 * h, m),
            "note": "tiles starting on multiples of size_multiple whose outputs are kept only farther than "
            "'halo' pixels from interior tile edges reproduce whole-image inference",
        },
        "normalization": {
            "model_space": "2x - 1 (applied inside the exported model)",
            "training_data": model.run_data.get("normalize", "unknown"),
            "training_data_settings": {k: model.run_data.get(k) for k in
                                       ("scale", "percentile_low", "percentile_high", "mean", "std")
                                       if k in model.run_data},
            "note": "the model maps integer input by its type's range, as data.normalize=none does for uint8, "
            "uint16, int8 and int16 files (and 'auto' for uint8); for any other normalisation of the training "
            "data (auto on other types: per-image percentiles; fixed, percentile, meanstd: "
            "training_data_settings), bring the data into [0, 1] that way and feed float32",
        },
    }
