"""``emkit predict RUN_OR_WEIGHTS INPUT… [--out DIR]``: tiled inference on image files.

Without ``--out`` the outputs go to ``<run>/predictions/`` (beside a lone weights file:
``<its folder>/predictions/``), said in one line. Besides the predictions it writes the
residual (``--save-residual``), the TTA spread (``--tta --spread``) and previews
(``--preview``); every image is compared with the run's training inputs (one warning
line per image unlike them, ``input_check.csv`` for several images), and where tiling
is not exact the measured deviation from whole-image inference is printed once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer

HELP = (
    "Predict images with a trained generator: tiled (any size, bounded memory), blended without "
    "seams, optionally with test-time augmentation. Writes <name>_pred.tif (restoration, float32) "
    "or <name>_prob.tif + <name>_mask.tif (segmentation) with the input's pixel size, into --out "
    "(default: <run>/predictions). --preview adds a labelled PNG of each (restoration: input | prediction | "
    "input - prediction); --save-residual and --tta --spread write what the model removed and how much the "
    "8 rotated/flipped predictions disagree. Every image is compared with the run's training inputs: one "
    "warning line per image unlike them."
)


def parse_overlap(value: str) -> Optional[int]:
    """``auto`` → None, else a non-negative integer (EmkitError otherwise)."""
    from emkit.errors import EmkitError

    if value.strip().lower() == "auto":
        return None
    try:
        number = int(value)
    except ValueError:
        raise EmkitError(f"--overlap expects 'auto' or a number of pixels, got {value!r}") from None
    if number < 0:
        raise EmkitError(f"--overlap must be >= 0, got {number}")
    return number


def announce(loaded, predictor, dev, count: int) -> None:  # noqa: ANN001
    """The model, device, tiling and file count on stderr.

    Where the overlap does not cover the receptive field, the deviation from whole-image
    inference is measured on the first image with two tiles and printed then
    (``emkit.predict.tiling_check``).
    """
    ov = predictor.overlap
    rf = loaded.receptive_field
    typer.echo(
        f"{loaded.name} ({loaded.head.kind}) on {dev}: tile {predictor.tile}, overlap {ov.overlap} "
        f"(margin {ov.margin}{', exact' if ov.exact else ''}), receptive field {rf if rf is not None else 'unknown'} "
        f"px, {count} file(s)", err=True,
    )


@dataclasses.dataclass(frozen=True)
class PredictChoices:
    """The command-line choices ``run_predictions`` needs beyond the model and the files."""

    normalize: str
    scale: Optional[float]
    key: Optional[str]
    quiet: bool
    on_error: str
    nan: str
    preview: bool
    residual: bool
    #: ``emkit.predict.TileSettings``.
    tiles: Any


def run_predictions(loaded: Any, files: list, out: Path, report: Any, dev: Any, choices: PredictChoices) -> None:
    """Predict ``files`` into ``out`` and print the written paths (stdout) and what was found (stderr)."""
    from emkit.data.formats import display_path
    from emkit.data.intensity import resolve_for_prediction
    from emkit.errors import EmkitError
    from emkit.predict import TiledPredictor
    from emkit.predict.input_check import InputChecker
    from emkit.predict.progress import PredictProgress
    from emkit.predict.runner import Extras, predict_files
    from emkit.storage.oserrors import storage_operation

    with storage_operation("create the output folder", out):
        out.mkdir(parents=True, exist_ok=True)
    normalization = resolve_for_prediction(choices.normalize, loaded.run_data, choices.scale)
    predictor = TiledPredictor(loaded.generator, loaded.head, choices.tiles, dev)
    checker = InputChecker.for_run(loaded.weights.parent)
    if not choices.quiet:
        announce(loaded, predictor, dev, len(files))
    if checker.stats is None:
        report.inform(checker.unavailable)
    progress = PredictProgress(len(files), enabled=not choices.quiet)
    extras = Extras(residual=choices.residual, preview=choices.preview, checker=checker, tiling=True)
    try:
        written = predict_files(loaded, predictor, files, out, normalization, key=choices.key, progress=progress,
                                on_error=choices.on_error, nan=choices.nan, report=report, extras=extras)
    finally:
        progress.close()
    if report.skipped:
        typer.echo(report.summary(), err=True)
        if not written:
            raise EmkitError(f"no file could be predicted: {report.summary()}")
    if len(checker.rows) > 1:
        written.append(checker.write_csv(out))
    for path in written:
        typer.echo(display_path(path))


def register(app: typer.Typer) -> None:
    @app.command("predict", help=HELP)
    def predict(
        model: Path = typer.Argument(..., help="Run directory or generator .safetensors file."),
        inputs: list[str] = typer.Argument(
            ..., help="Image files (TIFF, PNG, HDF5, MRC, DM3/DM4/EMD/SER), folders or quoted glob patterns."
        ),
        out: Optional[Path] = typer.Option(
            None, "--out", "-o", help="Output folder (created; default: <run>/predictions)."),
        tile: int = typer.Option(512, "--tile", help="Tile side in pixels (rounded up to the network's multiple)."),
        overlap: str = typer.Option(
            "auto", "--overlap",
            help="Overlap of neighbouring tiles in pixels, or 'auto' (covers the receptive field when the "
            "tile allows: then tiled == whole-image inference).",
        ),
        batch: int = typer.Option(4, "--batch", min=1, help="Tiles per forward pass."),
        device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:N]."),
        tta: bool = typer.Option(False, "--tta", help="Average the 8 rotations/flips (8x the compute)."),
        normalize: str = typer.Option(
            "run", "--normalize",
            help="Input intensities: run (as the run's training data), auto, none, fixed, percentile, meanstd.",
        ),
        scale: Optional[float] = typer.Option(None, "--scale", help="Full-scale value for fixed/meanstd."),
        key: Optional[str] = typer.Option(None, "--key", help="HDF5 dataset holding the images."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress line."),
        on_error: str = typer.Option("stop", "--on-error", help="A bad input file: stop, or skip it (listed at end)."),
        nan: str = typer.Option("error", "--nan", help="NaN/Inf pixels: error, or fill them with the image median."),
        preview: bool = typer.Option(
            False, "--preview", help="Also write <name>_preview.png: input and outputs side by side, labelled "
            "(restoration: with input - prediction on a signed colour scale)."
        ),
        save_residual: bool = typer.Option(
            False, "--save-residual", help="Restoration: also write <name>_residual.tif = normalised input - "
            "prediction (what the model removed; negative where it added)."
        ),
        spread: bool = typer.Option(
            False, "--spread", help="With --tta: also write <name>_spread.tif, how much the 8 rotated/flipped "
            "predictions disagree (restoration: std; segmentation: fraction of disagreeing votes)."
        ),
    ) -> None:
        from emkit.api.model import select_device
        from emkit.errors import ConfigError, EmkitError
        from emkit.predict import TileSettings, load_model
        from emkit.predict.inputs.checks import NAN_POLICIES, ON_ERROR, PredictReport
        from emkit.predict.inputs.files import default_out_dir, expand_inputs

        if on_error not in ON_ERROR or nan not in NAN_POLICIES:
            raise EmkitError(f"--on-error takes {'|'.join(ON_ERROR)} and --nan {'|'.join(NAN_POLICIES)}, "
                             f"got {on_error!r} and {nan!r}")
        if tile < 1:
            raise EmkitError(f"--tile must be >= 1, got {tile}")
        if spread and not tta:
            raise EmkitError("--spread needs --tta (the spread is taken over the 8 rotated/flipped predictions)")
        try:
            dev = select_device(device)
        except ConfigError as exc:
            raise EmkitError(f"--device {device}: {str(exc).split(': ', 1)[-1]}") from None
        loaded = load_model(model, dev)
        if out is None:
            out = default_out_dir(model)
            typer.echo(f"writing to {out} (no --out given)", err=True)
        report = PredictReport(note=lambda message: typer.echo(f"warning: {message}", err=True),
                               info=lambda message: typer.echo(f"note: {message}", err=True))
        files = expand_inputs(inputs, out, on_problem=report.skip if on_error == "skip" else None)
        if save_residual and loaded.head.kind != "image":
            raise EmkitError(f"--save-residual: {model} is a {loaded.head.kind} segmentation model; the residual "
                             "(input - prediction) exists for restoration models")
        run_predictions(loaded, files, out, report, dev, PredictChoices(
            normalize, scale, key, quiet, on_error, nan, preview, save_residual,
            TileSettings(tile=tile, overlap=parse_overlap(overlap), batch=batch, tta=tta, spread=spread)))
