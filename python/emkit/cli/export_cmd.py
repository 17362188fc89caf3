"""``emkit export RUN --format torchscript|onnx [--out PATH]``: a self-contained model file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

HELP = (
    "Export a trained generator with its normalisation and output post-processing as TorchScript or "
    "ONNX, plus an I/O description (<file>.json: names, dtypes, layout, ranges, size multiple, "
    "receptive field, task)."
)


def register(app: typer.Typer) -> None:
    @app.command("export", help=HELP)
    def export(
        run: Path = typer.Argument(..., help="Run directory or generator .safetensors file."),
        fmt: str = typer.Option(..., "--format", "-f", help="torchscript or onnx."),
        out: Optional[Path] = typer.Option(
            None, "--out", "-o", help="Output file (default: <run>/generator.pt or .onnx)."
        ),
        input_dtype: str = typer.Option(
            "float32", "--input-dtype", help="ONNX input type: float32 (in [0, 1]) or uint8 (TorchScript takes both)."
        ),
        opset: Optional[int] = typer.Option(None, "--opset", help="ONNX opset (default 17)."),
    ) -> None:
        from emkit.export import export_run

        model_path, json_path = export_run(run, fmt.lower(), out, input_dtype=input_dtype, opset=opset)
        typer.echo(str(model_path))
        typer.echo(str(json_path))
