"""``emkit.load(path)`` → ``Model``: predict numpy arrays with a trained run or a package.

``path`` is a run folder (its final weights; ``<run>/best`` for the keep_best copy), a
``generator.safetensors`` file, or a bioimage.io package (``.zip``, its folder or its
``rdf.yaml``). ``Model.predict(array)`` runs exactly what ``emkit predict`` runs on a
file -- the run's own intensity normalisation fitted per image, the same NaN/Inf checks,
tiled prediction blended without seams, optional 8-fold test-time augmentation -- and
returns arrays equal to what ``emkit predict`` writes into its TIFFs. A package runs its
own pre-processing and TorchScript weights on the whole image (as Fiji or ilastik would).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from emkit.errors import ConfigError, DataError, EmkitError

Overlap = Union[int, str]
#: Output names: ``pred`` (restoration, float32 in [0, 1]); ``prob`` (float32 probabilities)
#: and ``mask`` (uint8 labels) for segmentation -- the suffixes of ``emkit predict``'s files.
PACKAGE_OUTPUTS = {"image": "pred", "probability": "prob", "mask": "mask"}


def is_package(path: Path) -> bool:
    return path.suffix.lower() in (".zip", ".yaml", ".yml") or (path.is_dir() and (path / "rdf.yaml").exists())


def load(path: str | Path, *, device: str = "auto") -> "Model":
    """The model at ``path`` (run folder, weights file or bioimage.io package) on ``device``."""
    path = Path(path)
    if not path.exists():
        raise EmkitError(f"{path}: no such run folder, weights file or bioimage.io package")
    if is_package(path):
        from emkit.export.bioimageio import load_package

        return Model(path, package=load_package(path))
    from emkit.predict import load_model

    try:
        dev = select_device(device)
    except ConfigError as exc:
        raise EmkitError(f"device={device!r}: {str(exc).split(': ', 1)[-1]}") from None
    return Model(path, loaded=load_model(path, dev))


def select_device(name: str = "auto") -> Any:
    """The ``torch.device`` for ``auto``, ``cpu`` or ``cuda[:N]`` (``ConfigError`` naming a bad one)."""
    from emkit.engine.runtime.devices import select_device as select

    return select(name)


def _planes(image: Any, in_channels: int) -> np.ndarray:
    """``image`` (numpy or torch, 2-D or a stack) as a numpy array; one error naming the argument."""
    if hasattr(image, "detach") and hasattr(image, "cpu"):
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.ndim < 2 or min(arr.shape[-2:]) < 1 or arr.size == 0:
        raise DataError(f"image: expected a 2-D image (H, W) or a stack (N, H, W), got shape {arr.shape}")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if arr.dtype.kind not in "uif":
        raise DataError(f"image: unsupported pixel type {arr.dtype} (expected integers or floats)")
    if in_channels > 1 and (arr.ndim < 3 or arr.shape[-3] != in_channels):
        raise DataError(f"image: the generator takes {in_channels} channels; expected (..., {in_channels}, H, W), "
                        f"got shape {arr.shape}")
    return arr


def _squeeze(out: np.ndarray, stacked: bool) -> np.ndarray:
    """``(N, C, H, W)`` → ``(H, W)``/``(C, H, W)`` for one image, ``(N, H, W)``/``(N, C, H, W)`` for a stack."""
    if out.shape[1] == 1:
        out = out[:, 0]
    return out if stacked else out[0]


class Model:
    """A trained generator ready to predict arrays (see the module docstring)."""

    def __init__(self, path: Path, *, loaded: Any = None, package: Any = None) -> None:
        self.path = path
        self._loaded = loaded
        self._package = package

    # ---------------------------------------------------------------- facts ----------
    @property
    def name(self) -> str:
        return self._package.name if self._package is not None else self._loaded.name

    @property
    def task(self) -> Optional[str]:
        """The downstream task it was trained for (``None`` for a pretext generator)."""
        return self._package.task if self._package is not None else self._loaded.task

    @property
    def kind(self) -> str:
        """What the output means: ``image``, ``binary`` or ``multiclass``."""
        return self._package.output_kind if self._package is not None else self._loaded.head.kind

    @property
    def config(self) -> dict[str, Any]:
        """The run's config.yaml (a package: its attached emkit config section), {} when unknown."""
        if self._package is not None:
            return dict(((self._package.rdf.get("config") or {}).get("emkit")) or {})
        return dict(self._loaded.run_config)

    @property
    def in_channels(self) -> int:
        """Input planes the generator takes (a package: 1)."""
        return 1 if self._package is not None else int(self._loaded.in_channels)

    @property
    def threshold(self) -> float:
        """The mask threshold of binary segmentation (0.5 when the run set none)."""
        value = self._package.threshold if self._package is not None else self._loaded.head.threshold
        return 0.5 if value is None else float(value)

    @property
    def channels(self) -> Optional[int]:
        """Output planes per image (None for a package until it has predicted)."""
        return None if self._package is not None else int(self._loaded.head.channels)

    @property
    def generator(self) -> Any:
        """The ``torch.nn.Module`` (a run) or the TorchScript module (a package)."""
        return self._package.module if self._package is not None else self._loaded.generator

    # ---------------------------------------------------------------- predict --------
    def _predictor(self, tile: int, overlap: Overlap, batch: int, tta: bool, spread: bool = False) -> Any:
        from emkit.predict import TiledPredictor, TileSettings

        if not isinstance(tile, int) or tile < 1:
            raise EmkitError(f"tile={tile!r}: expected a positive number of pixels")
        if overlap != "auto" and (not isinstance(overlap, int) or overlap < 0):
            raise EmkitError(f"overlap={overlap!r}: expected 'auto' or a number of pixels >= 0")
        if spread and not tta:
            raise EmkitError("spread=True needs tta=True (the spread is taken over the 8 rotated/flipped predictions)")
        settings = TileSettings(tile=tile, overlap=None if overlap == "auto" else int(overlap), batch=batch, tta=tta,
                                spread=spread)
        loaded = self._loaded
        return TiledPredictor(loaded.generator, loaded.head, settings, next(loaded.generator.parameters()).device)

    def count_tiles(self, height: int, width: int, *, tile: int = 512, overlap: Overlap = "auto") -> int:
        """Tiles one ``height`` x ``width`` image takes (a package predicts whole images: 1)."""
        if self._package is not None:
            return 1
        return self._predictor(tile, overlap, 1, False).count_tiles(height, width)

    def predict_all(self, image: Any, *, tile: int = 512, overlap: Overlap = "auto", batch: int = 4,
                    tta: bool = False, normalize: str = "run", scale: Optional[float] = None,
                    nan: str = "error", on_tiles: Optional[Callable[[int], None]] = None,
                    residual: bool = False, spread: bool = False) -> dict[str, np.ndarray]:
        """Every output of ``emkit predict`` for ``image``: ``{"pred": ...}`` or ``{"prob": ..., "mask": ...}``.

        ``residual=True`` adds ``residual`` for restorations (the normalised input minus
        ``pred``: what the model removed); ``spread=True`` (with ``tta``) adds ``spread``, how
        much the 8 rotated/flipped predictions disagree (docs/prediction.md).
        ``on_tiles(count)`` is called as tiles finish (raise in it to cancel).
        """
        if self._package is not None:
            return self._predict_package(image, on_tiles, residual)
        from emkit.data.intensity import resolve_for_prediction
        from emkit.predict.inputs.checks import NAN_POLICIES
        from emkit.predict.inputs.sources import ArraySource
        from emkit.predict.metadata import ImageMeta
        from emkit.predict.runner import Extras, predict_arrays

        if nan not in NAN_POLICIES:
            raise EmkitError(f"nan={nan!r}: expected one of {', '.join(NAN_POLICIES)}")
        loaded = self._loaded
        arr = _planes(image, loaded.in_channels)
        stacked = arr.ndim > (2 if loaded.in_channels == 1 else 3)
        source = ArraySource(Path("<array>"), arr, loaded.in_channels, ImageMeta())
        predictor = self._predictor(tile, overlap, batch, tta, spread)
        rule = resolve_for_prediction(normalize, loaded.run_data, scale)
        outs = predict_arrays(loaded, predictor, source, rule, nan=nan, on_tiles=on_tiles,
                              extras=Extras(residual=residual))
        return {name: _squeeze(values, stacked) for name, values in outs.items()}

    def check_input(self, image: Any, *, normalize: str = "run", scale: Optional[float] = None) -> Any:
        """How one 2-D ``image`` compares with the model's training inputs: an
        ``emkit.data.input_stats.InputCheck`` (``outside``, ``ratio``, ``summary()``), or None
        when the run (or package) carries no training-input statistics (``input_stats_note``)."""
        from emkit.data.input_stats import array_features, compare

        stats = self.input_stats
        arr = _planes(image, self.in_channels)
        if stats is None or min(arr.shape[-2:]) < 32:
            return None
        return compare(stats, array_features(self._as_seen(arr, normalize, scale)))

    def _checker(self) -> Any:
        """The run's ``emkit.predict.input_check.InputChecker`` (read once)."""
        if "_input_checker" not in self.__dict__:
            from emkit.predict.input_check import InputChecker

            self.__dict__["_input_checker"] = InputChecker.for_run(self._loaded.weights.parent)
        return self.__dict__["_input_checker"]

    @property
    def input_stats(self) -> Any:
        """The training inputs' statistics (``emkit.data.input_stats.InputStats``), None when absent."""
        return self._package.input_stats if self._package is not None else self._checker().stats

    @property
    def input_stats_note(self) -> Optional[str]:
        """Why inputs cannot be compared with the training data (None when they can)."""
        if self._package is not None:
            return None if self._package.input_stats is not None else (
                f"{self.path}: the package carries no training-input statistics; inputs are not compared with them")
        return self._checker().unavailable or None

    def _as_seen(self, arr: np.ndarray, normalize: str = "run", scale: Optional[float] = None) -> np.ndarray:
        """One image as the network sees it: normalised to [0, 1] (a package: its pre-processing)."""
        if self._package is not None:
            from emkit.export.bioimageio.preprocessing import AXES, apply_steps

            return apply_steps(self._package.preprocessing, np.asarray(arr, np.float32)[None, None], AXES)[0, 0]
        from emkit.data.intensity import resolve_for_prediction

        scaling = resolve_for_prediction(normalize, self._loaded.run_data, scale).fit(
            arr.dtype, lambda limit: arr.reshape(-1), str(self.path))
        return scaling(arr)

    def predict(self, image: Any, **options: Any) -> np.ndarray:
        """The main output: the restored image (``pred``) or the segmentation ``mask``."""
        outs = self.predict_all(image, **options)
        return outs["pred"] if "pred" in outs else outs["mask"]

    def _predict_package(self, image: Any, on_tiles: Optional[Callable[[int], None]],
                         residual: bool = False) -> dict[str, np.ndarray]:
        arr = _planes(image, 1)
        planes = arr.reshape(-1, *arr.shape[-2:])
        results = []
        for plane in planes:
            results.append(self._package.predict_all(plane))
            if residual and "image" in results[-1] and results[-1]["image"].ndim == 2:
                results[-1]["residual"] = self._as_seen(plane) - results[-1]["image"]
            if on_tiles is not None:
                on_tiles(1)
        outs = {}
        for key in results[0]:
            name = PACKAGE_OUTPUTS.get(key, key)
            stack = np.stack([r[key] for r in results])
            outs[name] = stack.reshape(*arr.shape[:-2], *stack.shape[1:]) if arr.ndim > 2 else stack[0]
        return outs

    # ---------------------------------------------------------------- export ---------
    def export(self, format: str = "bioimageio", path: Optional[str | Path] = None, **options: Any) -> Path:
        """``emkit export`` of this run: ``torchscript``, ``onnx`` or ``bioimageio``; returns the file."""
        if self._package is not None:
            raise EmkitError(f"{self.path}: already an exported package; export the run it came from")
        run = self.path
        if format == "bioimageio":
            from emkit.export.bioimageio.package import PackageOptions, export_package

            return export_package(run, PackageOptions(Path(path) if path else None, *_package_options(options))).path
        from emkit.export import export_run

        return export_run(run, format, path, **options)[0]

    def __repr__(self) -> str:
        return f"Model({self.name!r}, task={self.task!r}, output={self.kind!r}, from {str(self.path)!r})"


def _package_options(options: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    unknown = set(options) - {"test_image", "authors"}
    if unknown:
        raise EmkitError(f"export(format='bioimageio'): unknown option(s) {sorted(unknown)}; "
                         "known: test_image, authors")
    test_image = options.get("test_image")
    return (Path(test_image) if test_image else None), tuple(options.get("authors") or ())
