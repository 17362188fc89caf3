"""A trained run directory (or a lone weights file) → generator in eval mode + its meaning.

What the output means follows from how the run was trained (``generator.json``
``trained_with`` and the run's ``config.yaml``): segmentation runs produce logits
(binary when the generator has one output channel, with the threshold of
``task.threshold``; multi-class otherwise), everything else an image in model space.
The run's ``data`` section says how its inputs were normalised, so prediction can do
the same (see ``emkit.data.intensity``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import torch
import yaml

from emkit.engine.runs.keep_best import BEST_DIR
from emkit.engine.runs.weights import NORMALIZATION, load_tensors, read_spec, resolve_weights
from emkit.errors import EmkitError
from emkit.predict.postprocess import OutputHead

CONFIG_FILE = "config.yaml"


@dataclasses.dataclass
class LoadedModel:
    """A generator ready for inference and everything needed to interpret it."""

    generator: torch.nn.Module
    spec: dict[str, Any]
    weights: Path
    head: OutputHead
    #: The run's resolved config (``config.yaml``), or {} for a lone weights file.
    run_config: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec.get("name"))

    @property
    def task(self) -> Optional[str]:
        return (self.spec.get("trained_with") or {}).get("task")

    @property
    def pretext(self) -> Optional[str]:
        return (self.spec.get("trained_with") or {}).get("pretext")

    @property
    def size_multiple(self) -> int:
        return max(int(getattr(self.generator, "size_multiple", 1) or 1), 1)

    @property
    def receptive_field(self) -> Optional[int]:
        rf = getattr(self.generator, "receptive_field", None)
        return None if rf is None else int(rf)

    @property
    def in_channels(self) -> int:
        return int(self.generator.in_channels)

    @property
    def run_data(self) -> dict[str, Any]:
        return dict(self.run_config.get("data") or {})

    def describe(self) -> dict[str, Any]:
        """JSON-able facts written into every output file's metadata."""
        return {
            "generator": self.name,
            "weights": str(self.weights),
            "task": self.task,
            "pretext": self.pretext,
            "output": self.head.kind,
        }


def load_model(path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    """Load ``path`` (run directory or ``.safetensors``) onto ``device``, in eval mode."""
    from emkit.models import generator_from_spec

    path = Path(path)
    if not path.exists():
        raise EmkitError(f"{path}: no such run directory or weights file")
    if path.is_file() and path.suffix != ".safetensors":
        raise EmkitError(f"{path}: expected a run directory or a .safetensors weights file")
    weights = resolve_weights(path)
    spec = read_spec(weights)
    norm = spec.get("normalization", NORMALIZATION)
    if norm != NORMALIZATION:
        raise EmkitError(f"{weights}: unsupported normalization {norm!r} (this emkit knows {NORMALIZATION!r})")
    if "name" not in spec:
        raise EmkitError(f"{weights}: the generator spec names no generator")
    generator = generator_from_spec(spec)
    try:
        generator.load_state_dict(load_tensors(weights))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise EmkitError(f"{weights}: weights do not fit generator {spec['name']!r} ({first})") from None
    generator.to(device).eval()
    run_config = _run_config(weights)
    return LoadedModel(generator, spec, weights, output_head(spec, generator, run_config), run_config)


def output_head(spec: dict[str, Any], generator: Any, run_config: dict[str, Any]) -> OutputHead:
    """How to read the generator's output (see the module docstring)."""
    task = (spec.get("trained_with") or {}).get("task")
    if task is None:
        task = (run_config.get("task") or {}).get("name")
    channels = int(generator.out_channels)
    if task == "segmentation":
        threshold = float((run_config.get("task") or {}).get("threshold", 0.5))
        if channels == 1:
            return OutputHead("binary", 1, threshold)
        return OutputHead("multiclass", channels, threshold)
    return OutputHead("image", channels)


def _run_config(weights: Path) -> dict[str, Any]:
    """The run's config.yaml beside the weights -- or one folder up for a run's ``best/`` copy."""
    path = weights.parent / CONFIG_FILE
    if not path.exists() and weights.parent.name == BEST_DIR:
        path = weights.parent.parent / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise EmkitError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(tree, dict):
        raise EmkitError(f"{path}: expected a mapping of settings, got {type(tree).__name__}")
    return tree
