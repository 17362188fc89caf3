"""What the behavioural checks run plugins with: a tiny generator, a CPU step context,
small batches and a checkpoint round trip, all built the way the engine builds them.

Kept free of pytest so ``emkit plugins validate`` can use it; ``ContractSkip`` marks a
check that cannot run in this environment (e.g. a dataset that needs files) rather than
one that failed.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import tempfile
from typing import Any, Mapping

import torch
from torch import nn

from emkit import registry
from emkit.interfaces import Generator
from emkit.data.build import build_dataset
from emkit.plugin_api import StepContext

#: Config values that shrink a dataset for smoke tests; applied to the fields it has.
TINY_DATA: dict[str, Any] = {"size": 64, "length": 8, "val_length": 4, "test_length": 4}

#: Side length of the random images used when no dataset can provide a batch.
SYNTHETIC_SIZE = 64


class ContractSkip(Exception):
    """A check could not run here (missing data, optional dependency); not a failure."""


# ------------------------------------------------------------------ configs -------------

#: Options every pretext/task check accepts, with their defaults.
OBJECTIVE_OPTIONS: dict[str, Any] = {"config": None, "data": None, "data_config": None, "generator": None,
                                     "generator_config": None, "batch_size": 2}


def objective_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` of a pretext/task check with defaults filled; unknown names are a TypeError."""
    unknown = set(options) - set(OBJECTIVE_OPTIONS)
    if unknown:
        raise TypeError(f"unknown {kind} check option(s) {sorted(unknown)}; known: {sorted(OBJECTIVE_OPTIONS)}")
    return {**OBJECTIVE_OPTIONS, **options}

def build_config(kind: str, name: str, config: Any = None) -> Any:
    """The plugin's ``Config`` (``emkit.config.plugin_config``): defaults, validated mapping or a copy."""
    from emkit.config.plugin_config import plugin_config

    return plugin_config(kind, name, registry.load(kind, name), config)


def tiny_data_values(name: str, overrides: Mapping[str, Any] | None = None, *,
                     keep_size: bool = False) -> dict[str, Any]:
    """``TINY_DATA`` restricted to the fields dataset ``name`` has, then ``overrides``.

    ``keep_size`` leaves the image size at the dataset's default (only the split lengths
    shrink): pretexts and tasks crop their defaults (e.g. 448 px) from full-size images.
    """
    cls = registry.load("data", name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    values = {k: v for k, v in TINY_DATA.items() if k in fields and not (keep_size and k == "size")}
    values.update(overrides or {})
    return values


# ------------------------------------------------------------------ generator -----------
@dataclasses.dataclass
class TinyGeneratorConfig:
    in_channels: int = 1
    out_channels: int = 1
    width: int = 4


class TinyGenerator(Generator):
    """Two 3x3 convolutions and a 1x1 head: the smallest honest ``Generator``.

    Pretexts and tasks are checked with it so their checks take milliseconds and do not
    depend on which generator plugins are installed.
    """

    Config = TinyGeneratorConfig

    def __init__(self, config: TinyGeneratorConfig) -> None:
        super().__init__(config)
        self.body = nn.Sequential(
            nn.Conv2d(config.in_channels, config.width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(config.width, config.width, 3, padding=1), nn.ReLU(),
        )
        self._head = nn.Conv2d(config.width, config.out_channels, 1)

    @property
    def head(self) -> nn.Module:
        return self._head

    @property
    def receptive_field(self) -> int:
        return 5

    def replace_head(self, out_channels: int) -> None:
        self._head = nn.Conv2d(self.config.width, out_channels, 1)
        self.config.out_channels = out_channels

    def encoder_modules(self) -> list[nn.Module]:
        return [self.body]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._head(self.body(x))


def make_generator(name: str | None = None, config: Any = None, *, out_channels: int | None = None,
                   seed: int = 0) -> Generator:
    """A seeded generator: the registered ``name`` (with ``config``) or ``TinyGenerator``.

    With ``out_channels`` the head is replaced when it differs, as a fine-tuning run does.
    """
    torch.manual_seed(seed)
    if name is None:
        values = dict(config or {})
        gen: Generator = TinyGenerator(TinyGeneratorConfig(**values))
    else:
        from emkit.models import build_generator

        gen = build_generator(name, config)
    if out_channels is not None and gen.out_channels != out_channels:
        gen.replace_head(out_channels)
    return gen


# ------------------------------------------------------------------ step context --------
def make_context(seed: int = 1234, step: int = 0) -> StepContext:
    """A CPU ``StepContext`` in fp32, as the engine builds it for ``train.device=cpu``."""
    return StepContext(device=torch.device("cpu"), autocast=contextlib.nullcontext, seed=seed, step=step)


def resolved_config(lr: float | None = None) -> Any:
    """A ``ResolvedConfig`` with package defaults, for building engine objects directly."""
    from emkit.config import ResolvedConfig, RunConfig, TrainConfig

    return ResolvedConfig(tree={}, run=RunConfig(), train=TrainConfig(lr=lr), plugins={})


# ------------------------------------------------------------------ batches -------------
def synthetic_batch(batch_size: int = 2, size: int = SYNTHETIC_SIZE, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random uint8 ``image`` and ``target`` and a 0/1 ``mask`` of blobs, like a loader batch."""
    g = torch.Generator().manual_seed(seed)
    shape = (batch_size, 1, size, size)
    image = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    target = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    noise = torch.rand(shape, generator=g)
    blobs = torch.nn.functional.avg_pool2d(noise, 5, stride=1, padding=2)
    mask = (blobs > blobs.flatten(1).quantile(0.8, dim=1).view(-1, 1, 1, 1)).to(torch.uint8)
    return {"image": image, "target": target, "mask": mask}


def first_batch(ds: Any, batch_size: int) -> dict[str, Any]:
    """The first ``batch_size`` samples collated by a ``DataLoader`` (as the loop gets them)."""
    from torch.utils.data import DataLoader

    n = min(batch_size, len(ds))
    if n == 0:
        raise ContractSkip(f"dataset {type(ds).__name__} has no samples to build a batch from")
    return next(iter(DataLoader(ds, batch_size=n, shuffle=False, num_workers=0)))


def objective_batch(objective_cls: Any, *, data: str | None | bool, data_config: Mapping[str, Any] | None,
                    batch_size: int, target: str | None, needs: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """A training batch for a pretext/task and where it came from.

    ``data``: a dataset name; ``None`` = the plugin's ``default_data`` when installed;
    ``False`` = random tensors (``synthetic_batch``). The dataset keeps its default image
    size unless ``data_config`` sets one. A dataset the plugin named by default that cannot
    be built from its defaults falls back to random tensors; one the caller named must work.
    """
    explicit = bool(data)
    name = data if data else (getattr(objective_cls, "default_data", None) if data is None else None)
    if name and (explicit or name in registry.available("data")):
        try:
            ds = build_dataset(name, tiny_data_values(name, data_config, keep_size=True), "train", target)
        except Exception:
            if explicit:
                raise
        else:
            missing = [k for k in needs if k != "image" and k not in set(getattr(ds, "provides", ()))]
            assert not missing, (
                f"dataset {name!r} (target {target!r}) provides {sorted(getattr(ds, 'provides', ()))} but the "
                f"plugin needs {missing}"
            )
            return first_batch(ds, batch_size), f"dataset {name!r}"
    return synthetic_batch(batch_size), "random tensors"


def clone_batch(batch: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.clone() if torch.is_tensor(v) else copy.deepcopy(v)) for k, v in batch.items()}


def assert_batch_unchanged(before: Mapping[str, Any], after: Mapping[str, Any], what: str) -> None:
    for key, value in before.items():
        if torch.is_tensor(value):
            assert torch.equal(after[key], value), f"{what} modified the loader batch's {key!r} in place"


def assert_same_tensors(a: Mapping[str, Any], b: Mapping[str, Any], what: str) -> None:
    assert set(a) == set(b), f"{what} returned different keys on two calls: {sorted(a)} vs {sorted(b)}"
    for key in a:
        if torch.is_tensor(a[key]):
            assert torch.equal(a[key], b[key]), (
                f"{what} is not deterministic: {key!r} differs between two calls with the same ctx.seed"
            )


def assert_per_sample_metrics(metrics: Any, batch_size: int, what: str) -> None:
    """``{name: 1-D float tensor of length B}`` with finite values and CSV-safe names."""
    assert isinstance(metrics, Mapping) and metrics, f"{what} must return a non-empty dict of per-sample metrics"
    for key, values in metrics.items():
        assert isinstance(key, str) and key and not any(c in key for c in ",\n\r\" "), (
            f"{what}: metric name {key!r} must be a non-empty string without commas, quotes or spaces (CSV column)"
        )
        assert torch.is_tensor(values), f"{what}: metric {key!r} must be a tensor, got {type(values).__name__}"
        assert values.dim() == 1 and values.shape[0] == batch_size, (
            f"{what}: metric {key!r} must be 1-D with one value per sample ({batch_size}), got {tuple(values.shape)}"
        )
        assert torch.isfinite(values.double()).all(), f"{what}: metric {key!r} has non-finite values {values.tolist()}"


def assert_panels(panels: Any, batch_size: int, what: str) -> None:
    """Sample-grid panels: ``{title: (B, C, H, W) tensor}`` (or a list) of one size, values in [0, 1]."""
    from emkit.data.grids import panel_grid, titled_panels

    assert isinstance(panels, (Mapping, list, tuple)), f"{what} must return a dict {{title: tensor}} or a list"
    if not panels:
        return
    titles, panels = titled_panels(panels)
    assert all(t.strip() for t in titles), f"{what}: every panel needs a non-empty title (the grid's column title)"
    size = tuple(panels[0].shape[-2:])
    for i, panel in enumerate(panels):
        assert torch.is_tensor(panel) and panel.dim() == 4 and panel.shape[0] == batch_size, (
            f"{what}: panel {i} must be (B={batch_size}, C, H, W), got "
            f"{tuple(panel.shape) if torch.is_tensor(panel) else type(panel).__name__}"
        )
        assert tuple(panel.shape[-2:]) == size, f"{what}: panel {i} is {tuple(panel.shape[-2:])}, panel 0 is {size}"
        values = panel.detach().float()
        assert torch.isfinite(values).all() and values.min() >= -1e-6 and values.max() <= 1 + 1e-6, (
            f"{what}: panel {i} must hold values in [0, 1] (clamp it)"
        )
    panel_grid(dict(zip(titles, panels)))


# ------------------------------------------------------------------ state ---------------
def parameters_of(modules: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
    return {f"{m}.{k}": v.detach().clone() for m, module in modules.items() for k, v in module.state_dict().items()}


def checkpoint_round_trip(build: Any, step: Any, batch: Mapping[str, Any]) -> None:
    """Resuming from a checkpoint continues exactly like the uninterrupted objective.

    ``build()`` returns a fresh ``(objective, optimizers)`` (modules bound, optimizers
    configured); ``step(objective, batch, seed)`` runs one training step. Runs step 1,
    saves an engine checkpoint, runs step 2; then builds a fresh objective, loads the
    checkpoint and runs step 2 again. Both must end with identical weights -- which holds
    only when every bit of training state lives in ``modules()`` and the optimizers, and a
    step depends on nothing but its inputs and ``ctx.seed``.
    """
    from emkit.engine.runs import checkpoint

    first, first_opts = build()
    step(first, clone_batch(batch), 11)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint.save_checkpoint(tmp, step=1, modules=first.modules(), optimizers=first_opts, extra={})
        step(first, clone_batch(batch), 22)
        expected = parameters_of(first.modules())
        resumed, resumed_opts = build()
        checkpoint.load_checkpoint(tmp, modules=resumed.modules(), optimizers=resumed_opts)
    step(resumed, clone_batch(batch), 22)
    got = parameters_of(resumed.modules())
    assert got.keys() == expected.keys(), "a rebuilt objective has different modules or parameters"
    differ = [k for k in expected if not torch.allclose(got[k].double(), expected[k].double(), rtol=1e-5, atol=1e-6)]
    assert not differ, (
        "resuming from a checkpoint diverges from the uninterrupted run in "
        f"{', '.join(differ[:4])}: keep all training state in modules()/optimizers and draw randomness "
        "only from ctx.seed / ctx.torch_generator()"
    )
