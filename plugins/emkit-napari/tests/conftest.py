"""Shared fixtures: tiny trained runs (seconds on one CPU core) and single-threaded torch.

The runs are real ``emkit run`` trainings (through ``emkit.engine.launch.start``, as the CLI
does) on emkit's synthetic STEM data, small enough to train in a few seconds: their
outputs are not good, but they are genuine run directories of each output kind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = ["generator=unet", "generator.blocks=2", "generator.width=4", "data=synthetic-stem", "data.size=64",
        "data.length=16", "data.val_length=4", "data.test_length=0", "task.crop=32", "train.epochs=1",
        "train.batch_size=8", "train.device=cpu"]


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _train(root: Path, name: str, *extra: str) -> Path:
    from emkit.engine.launch.start import launch

    return Path(launch([*TINY, *extra, f"runs_dir={root}", f"name={name}"], [], show_progress=False))


@pytest.fixture(scope="session")
def seg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A binary segmentation run (one output channel, threshold 0.5)."""
    return _train(tmp_path_factory.mktemp("runs"), "seg", "task=segmentation")


@pytest.fixture(scope="session")
def denoise_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A restoration run (denoise: an image out)."""
    return _train(tmp_path_factory.mktemp("runs"), "denoise", "task=denoise")


@pytest.fixture(scope="session")
def seg_package(seg_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``seg_run`` as a bioimage.io package (zip), written by ``emkit export --format bioimageio``'s code."""
    from emkit.export.bioimageio.package import PackageOptions, export_package

    return export_package(seg_run, PackageOptions(out=tmp_path_factory.mktemp("package") / "seg.zip")).path
