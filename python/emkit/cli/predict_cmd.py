"""``emkit predict RUN_OR_WEIGHTS INPUT… --out DIR``: tiled inference on image files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

HELP = (
    "Predict images with a trained generator: tiled (any size, bounded memory), blended without "
    "seams, optionally with test-time augmentation. Writes <name>_pred.tif (restoration, float32) "
    "or <name>_prob.tif + <name>_mask.tif (segmentation) with the input's pixel size; --preview adds "
    "a labelled PNG of each."
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
    """The model, device, tiling and file count on stderr (and a note when tiles may show seams)."""
    ov = predictor.overlap
    rf = loaded.receptive_field
    typer.echo(
        f"{loaded.name} ({loaded.head.kind}) on {dev}: tile {predictor.tile}, overlap {ov.overlap} "
        f"(margin {ov.margin}), receptive field {rf if rf is not None else 'unknown'} px, {count} file(s)", err=True,
    )
    if not ov.exact:
        typer.echo(
            "note: the overlap does not cover the receptive field; tiles may differ slightly from "
            "whole-image inference near their seams (a larger --tile or --overlap makes them agree)",
            err=True,
        )


def register(app: typer.Typer) -> None:
    @app.command("predict", help=HELP)
    def predict(
        model: Path = typer.Argument(..., help="Run directory or generator .safetensors file."),
        inputs: list[str] = typer.Argument(
            ..., help="Image files (TIFF, PNG, HDF5, MRC, DM3/DM4/EMD/SER), folders or quoted glob patterns."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder (created)."),
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
            False, "--preview", help="Also write <name>_preview.png: input and outputs side by side, labelled."
        ),
    ) -> None:
        from emkit.data.formats import display_path
        from emkit.data.intensity import resolve_for_prediction
        from emkit.api.model import select_device
        from emkit.errors import ConfigError, EmkitError
        from emkit.predict import TiledPredictor, TileSettings, load_model
        from emkit.predict.inputs.checks import NAN_POLICIES, ON_ERROR, PredictReport
        from emkit.predict.inputs.files import expand_inputs
        from emkit.predict.progress import PredictProgress
        from emkit.predict.runner import predict_files

        if on_error not in ON_ERROR or nan not in NAN_POLICIES:
            raise EmkitError(f"--on-error takes {'|'.join(ON_ERROR)} and --nan {'|'.join(NAN_POLICIES)}, "
                             f"got {on_error!r} and {nan!r}")
        if tile < 1:
            raise EmkitError(f"--tile must be >= 1, got {tile}")
        try:
            dev = select_device(device)
        except ConfigError as exc:
            raise EmkitError(f"--device {device}: {str(exc).split(': ', 1)[-1]}") from None
        report = PredictReport(note=lambda message: typer.echo(f"warning: {message}", err=True))
        files = expand_inputs(inputs, out, on_problem=report.skip if on_error == "skip" else None)
        loaded = load_model(model, dev)
        normalization = resolve_for_prediction(normalize, loaded.run_data, scale)
        settings = TileSettings(tile=tile, overlap=parse_overlap(overlap), batch=batch, tta=tta)
        predictor = TiledPredictor(loaded.generator, loaded.head, settings, dev)
        if not quiet:
            announce(loaded, predictor, dev, len(files))
        progress = PredictProgress(len(files), enabled=not quiet)
        try:
            written = predict_files(loaded, predictor, files, out, normalization, key=key, progress=progress,
                                    on_error=on_error, nan=nan, report=report)
        finally:
            progress.close()
        if report.skipped:
            typer.echo(report.summary(), err=True)
            if not written:
                raise EmkitError(f"no file could be predicted: {report.summary()}")
        if preview:
            from emkit.predict.preview import write_previews

            written += write_previews(files, [spec.suffix for spec in loaded.head.outputs()], out, key=key)
        for path in written:
            typer.echo(display_path(path))
