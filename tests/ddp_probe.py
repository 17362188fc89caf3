"""Probe plugins for multi-process tests: what each rank trained on, and a deterministic step.

Registered like a third-party distribution (``install(folder)`` writes an
``emkit_ddp_probe`` dist-info with entry points; the returned environment puts it and this
folder on ``PYTHONPATH``), so ``torchrun -m emkit run pretext=probe generator=probe-net
data=probe-data`` runs the real CLI, engine and DDP with them:

* ``probe-data``: ``length`` small uint8 images, each sample carrying its ``index``;
* ``probe-net``: two convolutions, optionally with BatchNorm (``norm=true``);
* ``probe``: a denoising pretext whose noise is seeded per sample by (epoch, index) --
  not per rank or step -- so N processes x batch b and 1 process x batch N*b see the same
  pairs. With ``EMKIT_PROBE_LOG=<folder>`` each rank appends one JSON line per training
  step (rank, world size, step, epoch, the items' indices) to ``rank<R>.jsonl``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch
from torch import nn

from emkit.interfaces import DataSource, Generator, Pretext
from emkit.plugin_api import StepContext, to_model

HERE = Path(__file__).resolve().parent
ENTRY_POINTS = {
    "emkit.generators": "probe-net = ddp_probe:ProbeNet",
    "emkit.pretexts": "probe = ddp_probe:ProbePretext",
    "emkit.datasets": "probe-data = ddp_probe:ProbeData",
}


def install(folder: Path) -> dict[str, str]:
    """Register the probe plugins in ``folder``; the environment a subprocess needs."""
    info = folder / "emkit_ddp_probe-0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emkit-ddp-probe\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("".join(f"[{g}]\n{line}\n\n" for g, line in ENTRY_POINTS.items()))
    path = os.pathsep.join(filter(None, [str(folder), str(HERE), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": path}


@dataclasses.dataclass
class ProbeDataConfig:
    length: int = 32
    val_length: int = 8
    size: int = 16


class ProbeData(DataSource):
    Config = ProbeDataConfig

    def __len__(self) -> int:
        return self.config.length if self.split == "train" else self.config.val_length

    def __getitem__(self, index: int) -> dict:
        gen = torch.Generator().manual_seed(index + {"train": 0, "val": 10**6, "test": 2 * 10**6}[self.split])
        image = torch.randint(0, 256, (1, self.config.size, self.config.size), generator=gen, dtype=torch.uint8)
        return {"image": image, "index": index}


@dataclasses.dataclass
class ProbeNetConfig:
    in_channels: int = 1
    out_channels: int = 1
    width: int = 4
    norm: bool = False


class ProbeNet(Generator):
    Config = ProbeNetConfig

    def __init__(self, config: ProbeNetConfig) -> None:
        super().__init__(config)
        layers: list[nn.Module] = [nn.Conv2d(config.in_channels, config.width, 3, padding=1)]
        if config.norm:
            layers.append(nn.BatchNorm2d(config.width))
        self.body = nn.Sequential(*layers, nn.ReLU())
        self._head = nn.Conv2d(config.width, config.out_channels, 1)

    @property
    def head(self) -> nn.Module:
        return self._head

    def replace_head(self, out_channels: int) -> None:
        self._head = nn.Conv2d(self.config.width, out_channels, 1)
        self.config.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._head(self.body(x))


@dataclasses.dataclass
class ProbeConfig:
    lr: float = 0.01
    noise: float = 0.2


class ProbePretext(Pretext):
    Config = ProbeConfig
    train_defaults = {"steps_per_epoch": None}

    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator}

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        self.optimizer = torch.optim.Adam(self.generator.parameters(), lr=self.config.lr)
        return {"generator": self.optimizer}

    def pairs(self, batch: dict, ctx: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
        clean = to_model(batch["image"].float() / 255.0)
        noise = torch.stack([torch.randn(clean.shape[1:], generator=torch.Generator().manual_seed(
            int(i) * 7919 + ctx.epoch)) for i in batch["index"]])
        return ctx.prepare(clean), ctx.prepare(clean + self.config.noise * noise.to(clean.device))

    def training_step(self, batch: dict, ctx: StepContext) -> dict[str, float]:
        _log_items(batch, ctx)
        clean, degraded = self.pairs(batch, ctx)
        self.optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.l1_loss(self.net("generator")(degraded), clean)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def validation_step(self, batch: dict, ctx: StepContext) -> dict[str, torch.Tensor]:
        clean, degraded = self.pairs(batch, ctx)
        return {"l1": (self.generator(degraded) - clean).abs().mean((1, 2, 3))}


def _log_items(batch: dict, ctx: StepContext) -> None:
    folder = os.environ.get("EMKIT_PROBE_LOG")
    if not folder:
        return
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    record = {"rank": rank, "world": world, "step": ctx.step, "epoch": ctx.epoch,
              "items": [int(i) for i in batch["index"]]}
    with open(Path(folder) / f"rank{rank}.jsonl", "a") as fh:
        fh.write(json.dumps(record) + "\n")


def read_log(folder: Path) -> list[dict]:
    """Every logged step of every rank and attempt, in file order per rank."""
    records = []
    for file in sorted(Path(folder).glob("rank*.jsonl")):
        records += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    return records
