"""Predict an image layer's pixels with an emkit model, without Qt: the predict widget's engine.

``open_model(path)`` accepts a run directory, a ``generator.safetensors`` file or a
bioimage.io package (``package_model``) and returns a ``Model``: its name, what its
output means (``image`` / ``binary`` / ``multiclass``, as emkit decides from how the run
was trained) and ``predict_plane``, which runs ``emkit.load(path).predict_all`` -- the
public API, the same tiled prediction as ``emkit predict`` -- over one 2-D plane with the
run's own intensity normalisation, reporting finished tiles.
``predict_array`` walks every plane of a layer (2-D, or a stack with any leading axes),
and ``prediction_layers`` turns the result into napari layer tuples: a restored image, or
a thresholded labels layer with the probability map as an optional image layer -- all
on the input layer's scale and translation.

With ``TileOptions.residual`` a restoration model also returns, after its output
channels, the residual (normalised input − output: what it removed; ``predict_all``'s
``residual``), shown as its own layer on a signed blue-white-red scale. ``Model.notes``
collects what the user should read beside the result: planes unlike the model's
training inputs (``emkit.load(...).check_input``), or why that check cannot run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Sequence

import numpy as np

from emkit import EmkitError

LayerData = tuple[Any, dict[str, Any], str]
#: ``on_progress(done, total)``: tiles finished over the whole layer.
ProgressFn = Callable[[int, int], None]


class Cancelled(EmkitError):
    """The user stopped a prediction or a training run."""


class Model(Protocol):
    """What the widget needs from a loaded model, whatever its source."""

    name: str
    kind: str
    threshold: float
    #: Output channels (without the residual's).
    channels: int
    #: Lines to show beside the result (out-of-distribution warnings).
    notes: list[str]

    def count_tiles(self, height: int, width: int) -> int: ...

    def predict_plane(self, plane: np.ndarray, where: str, on_tiles: Callable[[int], None]) -> np.ndarray:
        """``(H, W)`` raw pixels → ``(C, H, W)`` float32 in output space (probabilities, [0, 1] image)."""


@dataclasses.dataclass
class TileOptions:
    """The widget's tiling choices (``emkit predict --tile/--batch/--tta/--device``)."""

    tile: int = 512
    batch: int = 4
    tta: bool = False
    device: str = "auto"
    #: Restoration: also return the residual (normalised input − output) after the output channels.
    residual: bool = False


class RunModel:
    """A trained run directory (or weights file) behind ``emkit.load(...).predict_all``."""

    def __init__(self, path: str | Path, options: TileOptions = TileOptions()) -> None:
        import emkit

        widget_device(options.device)
        self.model = emkit.load(path, device=options.device)
        if self.model.in_channels != 1:
            raise EmkitError(f"{path}: the generator takes {self.model.in_channels} channels; "
                             "the napari widget feeds one grey-level plane")
        self.options = options
        self.name = Path(path).name if Path(path).is_dir() else self.model.name
        self.kind, self.threshold, self.channels = self.model.kind, self.model.threshold, self.model.channels
        self.notes: list[str] = [self.model.input_stats_note] if self.model.input_stats_note else []

    def count_tiles(self, height: int, width: int) -> int:
        return self.model.count_tiles(height, width, tile=self.options.tile)

    def predict_plane(self, plane: np.ndarray, where: str, on_tiles: Callable[[int], None]) -> np.ndarray:
        opts = self.options
        outs = self.model.predict_all(plane, tile=opts.tile, batch=opts.batch, tta=opts.tta, on_tiles=on_tiles,
                                      residual=opts.residual)
        return plane_values(self.model, plane, outs, where, self.notes)


def plane_values(model: Any, plane: np.ndarray, outs: dict[str, np.ndarray], where: str,
                 notes: list[str]) -> np.ndarray:
    """``(C [+ C], H, W)``: the prediction (and the residual); a plane unlike the training inputs adds a note."""
    values = [np.asarray(outs["pred"] if "pred" in outs else outs["prob"], np.float32)]
    if "residual" in outs:
        values.append(np.asarray(outs["residual"], np.float32))
    check = model.check_input(plane)
    if check is not None and check.outside:
        notes.append(f"{where}: {check.summary()}")
    return np.concatenate([v[None] if v.ndim == 2 else v for v in values])


def widget_device(name: str):  # noqa: ANN201 - torch.device
    """The torch device of the widget's *Device* choice (errors name the choice, not a config key)."""
    import torch

    from emkit.api.model import select_device

    if name.startswith("cuda") and not torch.cuda.is_available():
        raise EmkitError(f"Device {name!r}: torch cannot use CUDA on this machine; choose auto or cpu")
    try:
        return select_device(name)
    except EmkitError as exc:
        raise EmkitError(f"Device {name!r}: {exc}") from None


def open_model(path: str | Path, options: TileOptions = TileOptions()) -> Model:
    """A run directory / weights file (``RunModel``), or a bioimage.io package: its zip, folder or rdf.yaml."""
    path = Path(path)
    if path.suffix.lower() in (".zip", ".yaml", ".yml") or (path.is_dir() and (path / "rdf.yaml").exists()):
        from emkit_napari.package_model import PackageModel

        return PackageModel(path, residual=options.residual)
    return RunModel(path, options)


def nonfinite_reason(arr: np.ndarray) -> Optional[str]:
    """``"N NaN/non-finite pixel values"`` for a float array holding any, else None."""
    if arr.dtype.kind != "f":
        return None
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if not bad:
        return None
    return f"{bad} {'NaN' if np.isnan(arr).any() else 'Inf'}/non-finite pixel values"


def check_layer(data: Any, name: str, rgb: bool = False) -> np.ndarray:
    """The layer's pixels as a numpy array of planes ``(..., H, W)``; one clear error otherwise."""
    if rgb:
        raise EmkitError(f"layer {name!r} is RGB; emkit models take one grey-level channel "
                         "(convert it to greyscale first)")
    arr = np.asarray(data)
    if arr.ndim < 2 or min(arr.shape[-2:]) < 2:
        raise EmkitError(f"layer {name!r}: expected a 2-D image or a stack of them, got shape {arr.shape}")
    if arr.dtype.kind not in "uifb":
        raise EmkitError(f"layer {name!r}: unsupported pixel type {arr.dtype} (expected integers or floats)")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    reason = nonfinite_reason(arr)
    if reason:
        raise EmkitError(f"layer {name!r}: {reason.split(' (')[0]}; fill or crop them before predicting")
    return arr


def predict_array(model: Model, arr: np.ndarray, name: str, on_progress: Optional[ProgressFn] = None,
                  should_stop: Callable[[], bool] = lambda: False) -> np.ndarray:
    """``(..., H, W)`` → ``(..., C, H, W)`` output-space values; ``Cancelled`` when stopped."""
    lead, (h, w) = arr.shape[:-2], arr.shape[-2:]
    planes = arr.reshape(-1, h, w)
    total = len(planes) * model.count_tiles(h, w)
    done = [0]

    def on_tiles(count: int) -> None:
        done[0] += count
        if on_progress is not None:
            on_progress(done[0], total)
        if should_stop():
            raise Cancelled(f"prediction of {name!r} cancelled after {done[0]} of {total} tiles")

    out = [model.predict_plane(np.asarray(plane), name if len(planes) == 1 else f"{name}[{i}]", on_tiles)
           for i, plane in enumerate(planes)]
    return np.stack(out).reshape(*lead, -1, h, w)


def prediction_layers(model: Model, values: np.ndarray, source: str, *, threshold: Optional[float] = None,
                      probability: bool = True, scale: Optional[Sequence[float]] = None,
                      translate: Optional[Sequence[float]] = None) -> list[LayerData]:
    """napari layer tuples for ``values`` (``(..., C, H, W)`` from ``predict_array``)."""
    place: dict[str, Any] = {}
    if scale is not None:
        place["scale"] = tuple(scale)
    if translate is not None:
        place["translate"] = tuple(translate)
    meta = {"emkit_model": model.name, "emkit_output": model.kind, "emkit_source_layer": source}
    label = f"{source} ({model.name})"
    if model.kind == "image":
        residual = values[..., model.channels :, :, :] if values.shape[-3] > model.channels else None
        values = values[..., : model.channels, :, :]
        single = values.shape[-3] == 1
        image = values[..., 0, :, :] if single else np.moveaxis(values, -3, 0)
        extra = {} if single else {"channel_axis": 0}
        layers = [(image, {"name": f"{label} restored", "metadata": meta, **place, **extra}, "image")]
        if residual is not None:
            layers.append(residual_layer(residual, f"{label} residual (input - restored)", meta, place))
        return layers
    cut = model.threshold if threshold is None else float(threshold)
    if model.kind == "binary":
        prob = values[..., 0, :, :]
        mask = (prob > cut).astype(np.uint8)
        meta = {**meta, "threshold": cut}
    else:
        prob = np.moveaxis(values, -3, 0)
        mask = np.argmax(values, axis=-3).astype(np.uint8)
    layers: list[LayerData] = [(mask, {"name": f"{label} mask", "metadata": meta, **place}, "labels")]
    if probability:
        prob_place = dict(place)
        if model.kind == "multiclass":
            prob_place = {k: (1.0 if k == "scale" else 0.0,) + v for k, v in place.items()}
        layers.insert(0, (prob, {"name": f"{label} probability", "metadata": meta, "colormap": "magma",
                                 "contrast_limits": (0.0, 1.0), **prob_place}, "image"))
    return layers


#: Blue (the model added: negative) - white (0) - red (it removed: positive), as in emkit's previews.
SIGNED_COLORMAP = {"name": "emkit signed", "colors": [[59 / 255, 76 / 255, 192 / 255, 1.0], [0.95, 0.95, 0.95, 1.0],
                                                      [180 / 255, 4 / 255, 38 / 255, 1.0]],
                   "controls": [0.0, 0.5, 1.0]}


def residual_layer(residual: np.ndarray, name: str, meta: dict[str, Any], place: dict[str, Any]) -> LayerData:
    """The residual (``(..., C, H, W)``, first channel shown) on a symmetric blue-white-red scale."""
    plane = residual[..., 0, :, :]
    finite = np.abs(plane[np.isfinite(plane)])
    limit = float(np.percentile(finite, 99.5)) if finite.size else 0.0
    limit = limit if limit > 0 else 1e-6
    return (plane, {"name": name, "metadata": {**meta, "emkit_output": "residual"}, "colormap": SIGNED_COLORMAP,
                    "contrast_limits": (-limit, limit), **place}, "image")
