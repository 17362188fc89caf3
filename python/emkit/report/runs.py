"""Read a finished (or partial) run directory into a ``RunSummary``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable

import yaml

from emkit.engine.runs.metrics_log import read_metrics
from emkit.errors import EmkitError


#: Suffix of the columns tasks log beside a metric with the score of returning the input
#: unchanged (``l1_identity``): the same for every model, a baseline rather than a result.
BASELINE_SUFFIX = "_identity"


def is_baseline_column(name: str, columns: Iterable[str]) -> bool:
    """True for ``<metric>_identity`` when ``<metric>`` is among ``columns`` too."""
    return name.endswith(BASELINE_SUFFIX) and name[: -len(BASELINE_SUFFIX)] in set(columns)


@dataclasses.dataclass
class RunSummary:
    path: Path
    config: dict[str, Any]
    #: epoch -> {metric column: value} from the per-epoch rows of metrics.csv
    epochs: dict[int, dict[str, float]]
    finished: bool

    @property
    def objective(self) -> str:
        task = (self.config.get("task") or {}).get("name")
        pretext = (self.config.get("pretext") or {}).get("name")
        return task or pretext or "?"

    @property
    def init(self) -> str:
        """"P" (pretrained; init=self included, its source is "self") or "R" (random), as in the paper's tables."""
        init = self.config.get("init", "random")
        return "R" if init in (None, "", "random") else "P"

    @property
    def init_source(self) -> str:
        """Where the weights came from: ``init_label`` when set, else the pretraining run's
        folder name (``runs/pre/small`` -> ``small``, ``.../small/best`` -> ``small/best``),
        or, from random weights, what the engine applied: a task run's scheme
        (``task.random_init``, ``default`` for a task without that field), a pretext run's
        ``pretext.random_init``, else ``generator's own init`` (the built-in generators'
        pix2pix N(0, 0.02))."""
        label = self.config.get("init_label")
        if label:
            return str(label)
        if self.init == "R":
            from emkit.models.init_schemes import task_scheme

            task = self.config.get("task")
            if task:
                return f"{task_scheme(task)} init"
            scheme = (self.config.get("pretext") or {}).get("random_init")
            return f"{scheme} init" if scheme else "generator's own init"
        path = Path(str(self.config.get("init")))
        if path.suffix == ".safetensors":
            path = path.parent
        return f"{path.parent.name}/best" if path.name == "best" else path.name

    @property
    def pretext(self) -> str:
        """The pretext that made the initial weights: ``init=self``'s ``pretrain.pretext``, or
        the pretraining run's ``pretext`` (read from its config.yaml); "–" for random init,
        "?" where the source cannot be read."""
        if self.init == "R":
            return "–"
        init = str(self.config.get("init"))
        if init == "self":
            chosen = (self.config.get("pretrain") or {}).get("pretext", "pix2pix")
            return str(chosen if isinstance(chosen, str) else chosen.get("name", "pix2pix"))
        source = Path(init)
        if source.suffix == ".safetensors":
            source = source.parent
        for folder in (source, source.parent):  # a run, or its best/ folder
            try:
                cfg = yaml.safe_load((folder / "config.yaml").read_text()) or {}
            except (OSError, yaml.YAMLError):
                continue
            return str((cfg.get("pretext") or {}).get("name") or "?")
        return "?"

    @property
    def init_group(self) -> str:
        """``P (small)`` / ``R (default init)``: the init column of the report."""
        return f"{self.init} ({self.init_source})"

    @property
    def train_items(self) -> str:
        """The labelled-set size: ``data.train_limit``, else ``data.length`` (synthetic sets), else "all"."""
        data = self.config.get("data") or {}
        for key in ("train_limit", "length"):
            if data.get(key) is not None:
                return str(data[key])
        return "all"

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def generator(self) -> dict[str, Any]:
        return dict(self.config.get("generator") or {})


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def load_run(path: str | Path) -> RunSummary:
    path = Path(path)
    cfg_file = path / "config.yaml"
    if not cfg_file.exists():
        raise EmkitError(f"{path} is not an emkit run directory (no config.yaml)")
    config = yaml.safe_load(cfg_file.read_text()) or {}
    epochs: dict[int, dict[str, float]] = {}
    metrics_file = path / "metrics.csv"
    if metrics_file.exists():
        for row in read_metrics(metrics_file):
            if row.get("kind") != "epoch":
                continue
            values = {k: v for k, v in ((k, _number(v)) for k, v in row.items() if k not in ("kind",)) if v is not None}
            epochs[int(float(row["epoch"]))] = values
    return RunSummary(path=path, config=config, epochs=epochs, finished=(path / "generator.safetensors").exists())
