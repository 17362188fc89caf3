"""Command-line inputs (files, folders, globs) → the files to predict and their output names.

* a file is used as given (its format is sniffed when it is read);
* a folder contributes every image file below it (``readers.list_images``: recursive,
  hidden files skipped), and its sub-folders are mirrored under the output folder;
* anything else is a glob pattern (``**`` recurses); matches that are not image files
  by extension are skipped.

Without ``--out`` the outputs go to ``default_out_dir(model)``: ``<run>/predictions/``
(beside a lone weights file: ``<its folder>/predictions/``). Files inside the output
folder are left out (a second run over the same folder does not
predict its own predictions). Two inputs that would produce the same output name are an
error naming both.
"""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path
from typing import Callable, Optional

from emkit.data.readers import IMAGE_EXTENSIONS, BadFileError, list_images
from emkit.errors import EmkitError


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One file to predict; outputs go to ``<out>/<stem><suffix>``."""

    path: Path
    #: Output name without suffix, relative to the output folder (``sub/name``).
    stem: str


#: Sub-folder of the run (or of a weights file's folder) that receives predictions without ``--out``.
DEFAULT_OUT = "predictions"


def default_out_dir(model: str | Path) -> Path:
    """``<run>/predictions`` for a run directory, ``<folder>/predictions`` for a weights file."""
    model = Path(model)
    return (model if model.is_dir() else model.parent) / DEFAULT_OUT


def expand_inputs(inputs: list[str], out_dir: str | Path, *,
                  on_problem: Optional[Callable[[BadFileError], None]] = None) -> list[InputFile]:
    """All files named by ``inputs`` in order, without duplicates (see the module docstring).

    A symbolic-link loop inside a folder is a ``BadFileError``, or goes to ``on_problem``.
    """
    out = Path(out_dir).resolve()
    found: list[InputFile] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = [InputFile(p / rel, str(Path(rel).with_suffix(""))) for rel in list_images(p, on_problem=on_problem)]
            if not files:
                raise EmkitError(f"{item}: folder holds no image files ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        elif p.is_file():
            files = [InputFile(p, p.stem)]
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [InputFile(m, m.stem) for m in matches if m.is_file() and m.suffix.lower() in IMAGE_EXTENSIONS]
            if not files:
                raise EmkitError(f"{item}: the pattern matches no image files")
        else:
            raise EmkitError(f"{item}: no such file or folder")
        found += [f for f in files if not _inside(f.path, out)]
    return _unique(found)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def _unique(files: list[InputFile]) -> list[InputFile]:
    seen_paths: set[Path] = set()
    by_stem: dict[str, Path] = {}
    result = []
    for f in files:
        real = f.path.resolve()
        if real in seen_paths:
            continue
        seen_paths.add(real)
        other = by_stem.get(f.stem)
        if other is not None:
            raise EmkitError(
                f"{other} and {f.path} would write the same outputs ({f.stem}_*.tif); "
                "predict them into different --out folders or rename one"
            )
        by_stem[f.stem] = f.path
        result.append(f)
    if not result:
        raise EmkitError("no input files to predict (all inputs lie inside the output folder?)")
    return result
