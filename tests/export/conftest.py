"""Fixtures of the export tests."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from run_support import write_run


@pytest.fixture
def make_run(tmp_path) -> Callable[..., Path]:
    """``make_run(name, config, task=..., ...)`` → a run directory as training leaves it."""
    return lambda *args, **kwargs: write_run(tmp_path, *args, **kwargs)


#: A segmentation run trained for 32 steps on synthetic STEM images (64 px): enough for a
#: non-empty mask at threshold 0.4 on its validation images (the bioimage.io test refuses
#: all-zero test outputs; validation Dice 0.49 at that threshold). About 15 s on one CPU core.
TRAINED_SEG = [
    "run", "task=segmentation", "task.threshold=0.4", "task.crop=32", "task.lr=0.003", "data=synthetic-stem",
    "data.size=64", "data.length=32", "data.val_length=4", "data.test_length=2", "generator=unet",
    "generator.blocks=2", "generator.width=4", "train.epochs=4", "train.batch_size=4", "train.device=cpu",
    "eval_epochs=[]", "name=seg",
]


@pytest.fixture(scope="session")
def trained_seg_run(tmp_path_factory) -> Path:
    """A really trained tiny segmentation run directory (shared by the bioimage.io tests)."""
    from emkit.testing.fixtures import run_emkit
    from run_support import has_generator

    if not has_generator("unet"):
        pytest.skip("generator 'unet' is not registered (emkit_builtin generators not installed)")
    root = tmp_path_factory.mktemp("bioimageio")
    run_emkit(*TRAINED_SEG, cwd=root, check=True)
    return root / "runs" / "seg"


@pytest.fixture(scope="session")
def seg_package(trained_seg_run) -> Path:
    """The bioimage.io package of ``trained_seg_run``, written by the CLI without validation."""
    from emkit.testing.fixtures import run_emkit

    pytest.importorskip("onnx")
    proc = run_emkit("export", str(trained_seg_run), "--format", "bioimageio", "--no-validate", "--author",
                     "Test Author", cwd=trained_seg_run.parent, check=True)
    path = Path(proc.stdout.strip().splitlines()[-1])
    return path if path.is_absolute() else trained_seg_run.parent / path


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Run torch on one CPU thread, restored afterwards: small networks on a shared 2-core
    machine spend 100x longer in thread contention than in arithmetic (1 s vs 3 ms a call)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
