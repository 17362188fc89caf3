"""``emkit export RUN --format torchscript|onnx|bioimageio [--out PATH]``: a self-contained model.

``torchscript`` / ``onnx`` write one model file plus its I/O description;
``bioimageio`` writes a bioimage.io model package (zip) and validates it with
bioimage.io core when the ``emkit[bioimageio]`` extra is installed (``--validate``
insists on it, ``--no-validate`` skips it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

#: Help texts go through rich markup: ``\\[`` keeps a literal ``[``.
HELP = (
    "Export a trained generator with its normalisation and output post-processing as TorchScript or "
    "ONNX, plus an I/O description (<file>.json: names, dtypes, layout, ranges, size multiple, "
    "receptive field, task); or as a bioimage.io model package (--format bioimageio: a zip for Fiji/deepImageJ, "
    "ilastik, napari), validated by bioimage.io core when 'emkit\\[bioimageio]' is installed."
)


def register(app: typer.Typer) -> None:
    @app.command("export", help=HELP)
    def export(
        run: Path = typer.Argument(..., help="Run directory or generator .safetensors file."),
        fmt: str = typer.Option(..., "--format", "-f", help="torchscript, onnx or bioimageio."),
        out: Optional[Path] = typer.Option(
            None, "--out", "-o",
            help="Output file (default: <run>/generator.pt or .onnx; <run>/<run name>.bioimageio.zip)."
        ),
        input_dtype: str = typer.Option(
            "float32", "--input-dtype",
            help="ONNX input type: float32 (in [0, 1]), uint8, int8, uint16, int16 or int32 (integers mapped by "
            "their type's range; TorchScript takes every type)."
        ),
        opset: Optional[int] = typer.Option(None, "--opset", help="ONNX opset (default 17)."),
        validate: Optional[bool] = typer.Option(
            None, "--validate/--no-validate",
            help="bioimageio: run the bioimage.io test on the package (default: when 'emkit\\[bioimageio]' is installed)."
        ),
        test_image: Optional[Path] = typer.Option(
            None, "--test-image", help="bioimageio: image file for the test tensors (default: from the run's data)."
        ),
        author: Optional[list[str]] = typer.Option(
            None, "--author", help="bioimageio: author name (repeat for several; default: the user name)."
        ),
    ) -> None:
        if fmt.lower() == "bioimageio":
            _bioimageio(run, out, validate, test_image, author or [])
            return
        from emkit.export import export_run

        model_path, json_path = export_run(run, fmt.lower(), out, input_dtype=input_dtype, opset=opset)
        typer.echo(str(model_path))
        typer.echo(str(json_path))


def _bioimageio(run: Path, out: Optional[Path], validate: Optional[bool], test_image: Optional[Path],
                authors: list[str]) -> None:
    from emkit.errors import EmkitError, print_warning
    from emkit.export.bioimageio.package import PackageOptions, export_package
    from emkit.export.bioimageio.validate import INSTALL_HINT, available, validate_package

    if validate and not available():
        raise EmkitError(f"--validate needs bioimage.io core, which is not installed: {INSTALL_HINT}")
    result = export_package(run, PackageOptions(out, test_image, tuple(authors)))
    for note in result.notes:
        print_warning(note)
    typer.echo(str(result.path))
    if validate is False:
        return
    if not available():
        print_warning(f"{result.path}: not validated (bioimage.io core is not installed: {INSTALL_HINT})")
        return
    outcome = validate_package(result.path)
    typer.echo("\n".join(outcome.lines))
    if not outcome.passed:
        raise EmkitError(f"{result.path}: the bioimage.io test failed (see the lines above)")
