"""Create the run's generator: random init, or pretrained body weights (``init=``).

With ``init=<run dir | generator.safetensors>`` the generator is rebuilt from the saved
plugin config, every body tensor is loaded and checked, and the head is replaced when the
task needs a different number of output channels (or the task asks for a fresh one:
``task.head_init=reset``, initialised with the task's ``random_init`` scheme). A mismatched
architecture fails with a message naming the differing layers.
"""

from __future__ import annotations

import torch

from emkit.config import ResolvedConfig
from emkit.engine.runs.weights import load_tensors, read_spec, resolve_weights
from emkit.errors import EmkitError
from emkit.interfaces import Generator
from emkit.models import build_generator
from emkit.models.init_schemes import apply_init, task_scheme


def build_run_generator(cfg: ResolvedConfig, out_channels: int | None) -> Generator:
    """The configured generator, initialised from ``cfg.run.init``."""
    name = cfg.plugin_name("generator")
    if name is None:
        raise EmkitError("No generator chosen; add generator=<name> (e.g. generator=unet)")
    torch.manual_seed(cfg.run.seed)
    init = cfg.run.init
    if init in ("random", "", None):
        gen = build_generator(name, cfg.plugin_config("generator"))
        if out_channels is not None and gen.out_channels != out_channels:
            gen.replace_head(out_channels)
        if cfg.plugin_name("task") is not None:
            apply_init(gen, task_scheme(cfg.plugin_config("task")))
        else:  # a pretext's ``random_init`` when it has one; else the generator's own init
            scheme = getattr(cfg.plugin_config("pretext"), "random_init", "pix2pix")
            if scheme != "pix2pix":
                apply_init(gen, scheme)
        return gen
    if init == "self":  # the run's own pretext stage (engine/launch/self_pretrain.py)
        from emkit.engine.runs.run_dir import stage_dir

        init = str(stage_dir(cfg))
    gen = load_pretrained(init, cfg, out_channels)
    task = cfg.plugin_config("task") if cfg.plugin_name("task") is not None else None
    if getattr(task, "head_init", None) == "reset":  # a fresh head on the pretrained body
        apply_init(gen.head, task_scheme(task))
    return gen


def _describe_mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shapes = sorted(k for k in set(expected) & set(found) if expected[k].shape != found[k].shape)
    parts = []
    if shapes:
        parts.append("different shapes: " + ", ".join(
            f"{k} {tuple(found[k].shape)} vs {tuple(expected[k].shape)}" for k in shapes[:6]))
    if missing:
        parts.append("missing in weights: " + ", ".join(missing[:6]) + (" …" if len(missing) > 6 else ""))
    if extra:
        parts.append("not in model: " + ", ".join(extra[:6]) + (" …" if len(extra) > 6 else ""))
    return "; ".join(parts)


def load_pretrained(init: str, cfg: ResolvedConfig, out_channels: int | None) -> Generator:
    weights = resolve_weights(init)
    spec = read_spec(weights)
    name = cfg.plugin_name("generator")
    if spec["name"] != name:
        raise EmkitError(
            f"init={init} holds a {spec['name']!r} generator but generator={name!r} was chosen; "
            f"drop the generator key or use generator={spec['name']}"
        )
    gen = build_generator(spec["name"], dict(spec["config"]))
    tensors = load_tensors(weights)
    head = gen.head_parameter_names()
    state = gen.state_dict()
    body_expected = {k: v for k, v in state.items() if k not in head}
    body_found = {k: v for k, v in tensors.items() if k not in head}
    problem = _describe_mismatch(body_expected, body_found)
    if problem:
        raise EmkitError(f"Weights {weights} do not fit generator {name!r}: {problem}")
    gen.load_state_dict(tensors, strict=True)
    if out_channels is not None and gen.out_channels != out_channels:
        gen.replace_head(out_channels)
    return gen
