"""``emkit data synth|pack|show``: make, convert and inspect datasets.

* ``synth KIND --out DIR --n N`` writes synthetic data in the real published layout
  (TEMImageNet PNG folders, Au HDF5, CEM TIFF folders) and prints how to train on it;
* ``pack SRC OUT`` converts a folder of images into memory-mapped shards (resumable);
* ``show DATASET [key=value ...] --out grid.png`` writes a sample grid and statistics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _progress(total: int, label: str, unit: str):
    """The shared one-line progress (ETA kept visible; plain lines when not a terminal)."""
    from emkit.console.progress import Progress

    return Progress(total, label=label, unit=unit)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Make, pack and inspect datasets.", no_args_is_help=True)
    add_synth(group)
    add_pack(group)
    add_show(group)
    app.add_typer(group, name="data")


def add_synth(group: typer.Typer) -> None:
    @group.command("synth", help="Write a synthetic dataset in the real published layout (stem | hrtem | cem).")
    def synth(
        kind: str = typer.Argument(..., help="stem (TEMImageNet PNGs), hrtem (Au HDF5) or cem (CEM500K TIFF folders)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        n: int = typer.Option(100, "--n", help="Number of samples."),
        seed: int = typer.Option(0, "--seed", help="Seed (sample i equals synthetic-<kind> sample i)."),
        size: Optional[int] = typer.Option(None, "--size", help="Image side (default: stem 256, hrtem 512, cem 224)."),
        sources: int = typer.Option(4, "--sources", help="cem only: number of source folders."),
    ) -> None:
        from emkit.data.synthetic.export import kind_of, write_synthetic
        from emkit.errors import DataError

        kind_of(kind)  # bad input fails before anything is drawn or written
        if n < 1:
            raise DataError(f"--n must be at least 1, got {n}")
        with _progress(n, f"synth {kind}", "sample") as bar:
            reader = write_synthetic(kind, out, n, seed=seed, size=size, sources=sources, progress=bar.advance)
        typer.echo(f"wrote {n} samples to {out}; read them with data={reader} data.root={out}")


def add_pack(group: typer.Typer) -> None:
    @group.command("pack", help="Pack a folder of images into memory-mapped shards (resumable).")
    def pack(
        src: Path = typer.Argument(..., help="Folder of images (searched recursively)."),
        out: Path = typer.Argument(..., help="Output folder for shards + index.json."),
        size: Optional[int] = typer.Option(None, "--size", help="Centre-crop/pad every image to size x size."),
        dtype: str = typer.Option("auto", "--dtype", help="auto | uint8 | uint16."),
        shard_mb: int = typer.Option(256, "--shard-mb", help="Shard size in MiB."),
        on_error: str = typer.Option("raise", "--on-error", help="raise | skip (bad files are listed in the index)."),
    ) -> None:
        from emkit.data.packed import pack_folder
        from emkit.data.problems import summarize
        from emkit.data.readers import list_images

        total = len(list_images(src)) if src.is_dir() else 0
        with _progress(total, "pack", "file") as bar:
            index = pack_folder(src, out, size=size, dtype=dtype, shard_mb=shard_mb, on_error=on_error,
                                progress=lambda done, _total, _f: bar.update(done))
        st = index["stats"]
        typer.echo(
            f"packed {index['count']} images ({index['width']}x{index['height']} {index['dtype']}) "
            f"into {len(index['shards'])} shard(s) in {out}; mean {st['mean']:.4f} std {st['std']:.4f}"
        )
        if index["skipped"]:
            typer.echo(summarize([tuple(x) for x in index["skipped"]]))
        typer.echo(f"train on it with data=packed data.root={out}")


def add_show(group: typer.Typer) -> None:
    @group.command("show", help="Write a PNG grid of samples (targets/masks beside images) and print statistics.")
    def show(
        dataset: str = typer.Argument(..., help="Dataset plugin name (e.g. synthetic-stem, folder)."),
        overrides: Optional[list[str]] = typer.Argument(None, help="Dataset options, e.g. root=/data limit=100."),
        out: Path = typer.Option(Path("grid.png"), "--out", "-o", help="PNG file to write."),
        n: int = typer.Option(16, "--n", help="Number of samples."),
        split: str = typer.Option("train", "--split", help="train | val | test."),
        target: Optional[str] = typer.Option(None, "--target", help="Task kind for select_target (e.g. denoise)."),
        cell: int = typer.Option(256, "--cell", help="Pixel size of each image in the grid."),
    ) -> None:
        from rich.console import Console
        from rich.table import Table

        from emkit.data.preview import dataset_from_options, describe, pick
        from emkit.data.grids import dataset_grid

        ds = dataset_from_options(dataset, overrides or [], split=split, target=target)
        indices = pick(len(ds), n)
        samples = [ds[i] for i in indices]
        dataset_grid(samples, indices, cell=cell).save(out)
        console = Console(width=120, highlight=False)
        console.print(
            f"{dataset} ({split} split): {len(ds)} samples; provides {', '.join(('image',) + tuple(ds.provides))}",
            markup=False,
        )
        table = Table(title=f"statistics of {len(samples)} samples")
        for col in ("key", "shape", "dtype", "mean", "std", "min", "max", "in [0,1] units / classes"):
            table.add_column(col)
        for key, info in describe(samples).items():
            extra = ""
            if "scaled" in info:
                sc = info["scaled"]
                extra = f"mean {sc['mean']:.3f} std {sc['std']:.3f} [{sc['min']:.3f}, {sc['max']:.3f}]"
            elif "class_fractions" in info:
                extra = ", ".join(f"{k}: {v:.3f}" for k, v in info["class_fractions"].items())
            table.add_row(key, str(info["shape"]), str(info["dtype"]), f"{info['mean']:.4g}", f"{info['std']:.4g}",
                          f"{info['min']:.4g}", f"{info['max']:.4g}", extra)
        console.print(table)
        from emkit.data.split_sizes import format_sizes, split_sizes

        sizes = split_sizes(lambda s: dataset_from_options(dataset, overrides or [], split=s, target=target), {split: ds})
        console.print(format_sizes(sizes), markup=False)
        problems = ds.problems()
        if problems:
            from emkit.data.problems import summarize

            console.print(summarize(problems), markup=False)
        console.print(f"grid written to {out}", markup=False)
