"""Values that depend on more than one section, settled once while the config is resolved.

The run record (config.yaml) must say what ran, so nothing downstream chooses a value on
its own:

* the learning rate: ``train.lr`` when given, else the pretext's/task's own ``lr`` (else
  ``DEFAULT_LR``); both ``train.lr`` and the plugin's ``lr`` then hold the value used;
* the run ``name`` must be one folder name (names.py);
* ``eval_epochs`` beyond ``train.epochs`` would never be evaluated: they are dropped
  with one warning line (kept in ``ResolvedConfig.warnings``) and the record lists only
  the epochs that will be evaluated;
* ``train.freeze``/``train.body_lr_mult`` with a pretext (they act on fine-tuning only)
  are reset with one warning.

Settings that need the data to be judged (steps per epoch, crop sizes) are settled by
``engine/loop/data_settings.py`` once the dataset exists.
"""

from __future__ import annotations

from typing import Any

from emkit.config.names import check_name
from emkit.config.schema import DEFAULT_LR, RunConfig, TrainConfig

#: Sections whose plugin is the run's objective (and may carry its own ``lr``).
OBJECTIVE_SECTIONS = ("pretext", "task")


def settled_lr(train_lr: float | None, plugin_config: Any) -> float:
    """The learning rate a run uses: ``train.lr``, else the plugin's ``lr``, else the default."""
    if train_lr is not None:
        return float(train_lr)
    return float(getattr(plugin_config, "lr", None) or DEFAULT_LR)


def settle_learning_rate(train: TrainConfig, plugins: dict[str, tuple[str, Any]]) -> None:
    """Make ``train.lr`` and the objective plugin's ``lr`` the one value the run uses."""
    for section in OBJECTIVE_SECTIONS:
        if section not in plugins:
            continue
        cfg = plugins[section][1]
        train.lr = settled_lr(train.lr, cfg)
        if hasattr(cfg, "lr"):
            cfg.lr = train.lr


def settle_eval_epochs(run: RunConfig, train: TrainConfig) -> list[str]:
    """Drop evaluation epochs the run never reaches; return the warning lines."""
    beyond = [e for e in run.eval_epochs if e > train.epochs]
    if not beyond:
        return []
    run.eval_epochs = [e for e in run.eval_epochs if e <= train.epochs]
    return [f"eval_epochs {beyond} lie beyond train.epochs={train.epochs} and are dropped "
            f"(evaluating at {run.eval_epochs or 'no epoch'}); raise train.epochs to evaluate them"]


def settle_fine_tuning_only(train: TrainConfig, plugins: dict[str, tuple[str, Any]]) -> list[str]:
    """``train.freeze``/``train.body_lr_mult`` act on a task's generator only; with a pretext
    they would be ignored, so they are reset (and recorded as reset) with one warning."""
    if "pretext" not in plugins:
        return []
    default = TrainConfig()
    changed = [f"train.{key}={getattr(train, key)!r}" for key in ("freeze", "body_lr_mult")
               if getattr(train, key) != getattr(default, key)]
    if not changed:
        return []
    train.freeze, train.body_lr_mult = default.freeze, default.body_lr_mult
    return [f"{' and '.join(changed)} only apply to fine-tuning (task=...); pretext "
            f"{plugins['pretext'][0]!r} trains every parameter at train.lr, so they are ignored"]


def settle(run: RunConfig, train: TrainConfig, plugins: dict[str, tuple[str, Any]]) -> list[str]:
    """Apply every cross-section rule above in place; return the warning lines."""
    if run.name is not None:
        check_name(run.name)
    settle_learning_rate(train, plugins)
    return settle_eval_epochs(run, train) + settle_fine_tuning_only(train, plugins)
