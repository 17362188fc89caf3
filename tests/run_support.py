"""Helpers of the prediction and export tests: run directories written without training.

Imported by this unique name (``from run_support import ...``; tests/ is on sys.path through its conftest), never as
``conftest``: several test folders have a conftest.py, and which one a bare
``import conftest`` finds depends on the collection order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest
import torch
import yaml
from torch import nn

from emkit import registry


def randomize(generator: nn.Module, seed: int = 0, out_scale: float = 1.0) -> nn.Module:
    """He-scaled random weights and non-trivial batch-norm statistics, so outputs are O(1).

    Freshly initialised generators (pix2pix init, N(0, 0.02)) produce outputs near zero,
    which would make every tolerance in these tests vacuous. ``out_scale`` shrinks the
    head so image outputs are not mostly clamped.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in generator.modules():
            if isinstance(m, nn.Conv2d):
                fan = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        head = getattr(generator, "head", None)
        if isinstance(head, nn.Conv2d):
            head.weight.mul_(out_scale)
    return generator.eval()


def has_generator(name: str) -> bool:
    return name in registry.available("generator")


needs_unet = pytest.mark.skipif(
    not has_generator("unet"), reason="generator 'unet' is not registered (emkit_builtin generators not installed)"
)


def write_run(
    tmp_path: Path,
    name: str = "unet",
    config: Optional[dict[str, Any]] = None,
    *,
    task: Optional[str] = None,
    pretext: Optional[str] = None,
    threshold: float = 0.5,
    data: Optional[dict[str, Any]] = None,
    seed: int = 0,
    out_scale: float = 1.0,
    folder: str = "run",
    write_config: bool = True,
) -> Path:
    """A run directory as training leaves it: weights + spec (+ ``config.yaml``)."""
    from emkit.engine.runs.weights import export_generator
    from emkit.models import build_generator, generator_spec

    gen = randomize(build_generator(name, dict(config or {})), seed, out_scale)
    spec = generator_spec(name, gen)
    spec["trained_with"] = {"pretext": pretext, "task": task, "data": "synthetic", "steps": 1}
    run = tmp_path / folder
    export_generator(run, spec, gen)
    if write_config:
        tree: dict[str, Any] = {"generator": {"name": name, **(config or {})}}
        if task:
            tree["task"] = {"name": task, "threshold": threshold}
        if pretext:
            tree["pretext"] = {"name": pretext}
        tree["data"] = {"name": "folder", "normalize": "auto", **(data or {})}
        (run / "config.yaml").write_text(yaml.safe_dump(tree, sort_keys=False))
    return run


def run_cli(args, capsys):
    """Run ``emkit ARGS`` in-process; return (exit code, stdout, stderr)."""
    from emkit.cli.app import main

    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def eager(run: Path, image_unit: Any) -> Any:
    """Reference output of a run's model: its generator in PyTorch on the whole image
    (``image_unit`` a float32 array in [0, 1]), mapped by the public image-space
    conversion, then the head's activation; a numpy array."""
    from emkit.plugin_api import to_model
    from emkit.predict import load_model

    model = load_model(run)
    with torch.no_grad():
        return model.head.activate(model.generator(to_model(torch.from_numpy(image_unit)))).numpy()
