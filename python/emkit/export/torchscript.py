"""TorchScript export: a traced generator inside a scripted normalisation/post-processing wrapper.

The generator is traced (``torch.jit.trace``) on an input whose sides divide by
``size_multiple`` -- plugins need not be scriptable -- and the wrapper
(``export.wrapper``) is scripted around it, so the saved file keeps its control flow:
float or integer input of any type (``plugin_api.to_unit``), and padding of any H, W to
the multiple. The I/O description is
stored in the archive (``extra_files['emkit_io.json']``) as well as beside it. Loading
needs only ``torch.jit.load``; no emkit code is imported.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Iterator

import torch

from emkit.export.wrapper import wrap
from emkit.plugin_api import to_model
from emkit.predict.model_loading import LoadedModel

EXTRA_FILE = "emkit_io.json"


def example_input(model: LoadedModel) -> torch.Tensor:
    """A small input in model space whose sides divide by ``size_multiple``."""
    side = max(4 * model.size_multiple, 64)
    side = -(-side // model.size_multiple) * model.size_multiple
    gen = torch.Generator().manual_seed(0)
    return to_model(torch.rand(1, model.in_channels, side, side, generator=gen))


def build_scripted(model: LoadedModel) -> torch.jit.ScriptModule:
    """The scripted wrapper around the traced generator (on the CPU)."""
    generator = model.generator.cpu().eval()
    head = model.head
    with _quiet():
        core = torch.jit.trace(generator, example_input(model), check_trace=False)
        return torch.jit.script(wrap(core, head.kind, model.size_multiple, pad=True, threshold=head.threshold))


def export_torchscript(model: LoadedModel, path: Path, description: dict) -> Path:
    """Write the TorchScript archive to ``path``."""
    scripted = build_scripted(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _quiet():
        torch.jit.save(scripted, str(path), _extra_files={EXTRA_FILE: json.dumps(description, indent=1)})
    return path


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence tracer warnings (shape checks frozen by design) and TorchScript's deprecation notices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
