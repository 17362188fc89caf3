"""Validate a package with bioimage.io core: the spec check plus the package's own test.

``bioimageio.core.test_model`` loads the package, validates ``rdf.yaml`` against the
spec (file hashes included), runs the test input through the pre-processing and every
weight format (here TorchScript and ONNX) and compares with the test outputs, then runs
inference for several valid sizes and batch sizes. Everything is in the zip, so it
runs offline. ``bioimageio.core`` is the optional extra ``emkit[bioimageio]``;
``available()`` says whether it is installed.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import warnings
from pathlib import Path

from emkit.errors import EmkitError

INSTALL_HINT = "pip install 'emkit[bioimageio]'"


def available() -> bool:
    """True when ``bioimageio.core`` can be imported."""
    try:
        return importlib.util.find_spec("bioimageio.core") is not None
    except ModuleNotFoundError:
        return False


@dataclasses.dataclass(frozen=True)
class Validation:
    """Outcome of ``validate_package``: overall status and one line per check."""

    status: str
    lines: list[str]

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def validate_package(path: str | Path) -> Validation:
    """Run bioimage.io core's test of the package at ``path`` on the CPU."""
    if not available():
        raise EmkitError(f"validating a bioimage.io package needs bioimage.io core: {INSTALL_HINT}")
    from loguru import logger

    logger.disable("bioimageio")  # its progress log is not for emkit's users; the summary is
    from bioimageio.core import test_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's notice
        summary = test_model(str(path), devices=["cpu"])
    lines = [f"bioimageio test {Path(path).name}: {summary.status} (format {summary.format_version})"]
    for detail in summary.details:
        if detail.status not in ("passed", "failed"):
            continue
        where = ".".join(str(x) for x in detail.loc)
        lines.append(f"  {detail.status:6} {detail.name}" + (f" [{where}]" if where else ""))
        for kind, entries in (("error", detail.errors), ("warning", detail.warnings)):
            for entry in entries:
                loc = ".".join(str(x) for x in entry.loc)
                text = (entry.msg or "").splitlines()[0] if entry.msg else str(entry)
                lines.append(f"         {kind}: " + (f"{loc}: " if loc else "") + text)
    return Validation(str(summary.status), lines)
