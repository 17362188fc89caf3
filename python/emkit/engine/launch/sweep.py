"""``emkit sweep``: run the Cartesian product of comma-separated overrides, resumably.

``emkit sweep task=segmentation generator.blocks=2,4 init=random,runs/pre seed=0,1``
runs 8 trainings one after another under ``runs/<sweep>/<key=value,...>/``. A run with
an exported generator is skipped, a run with a checkpoint is resumed, a run that died
before its first checkpoint is started again; a run that kept best weights
(``train.keep_best``) and evaluates the test split has them evaluated on it too. The CLI
then writes the comparison report (``emkit.report`` reads run directories; the engine
does not depend on it).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
from pathlib import Path

from emkit.errors import ConfigError


def split_top_level(value: str) -> list[str]:
    """Split on commas that are not inside [...] or {...}."""
    parts, depth, current = [], 0, ""
    for ch in value:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def expand(overrides: list[str]) -> list[list[str]]:
    """All combinations of the comma-separated values, in command-line order."""
    axes: list[list[str]] = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"Expected key=value[,value...], got {item!r}")
        axes.append([f"{key}={v}" for v in split_top_level(value)])
    return [list(combo) for combo in itertools.product(*axes)]


def run_name(combo: list[str], varying: set[str]) -> str:
    keys = [c for c in combo if c.split("=", 1)[0] in varying] or combo or ["run"]
    text = ",".join(keys)
    slug = re.sub(r"[^A-Za-z0-9_.=,-]+", "_", text)[:80]
    digest = hashlib.sha1("\0".join(combo).encode()).hexdigest()[:6]
    return f"{slug}-{digest}"


def evaluate_best(path: Path) -> None:
    """Test metrics of a finished run's keep_best weights (eval_test_best.json), when the run
    kept best weights and asked for test evaluation (eval_epochs), so compare can show them."""
    import yaml

    from emkit.engine.runs.keep_best import BEST_DIR
    from emkit.engine.runs.weights import WEIGHTS

    if not (path / BEST_DIR / WEIGHTS).exists() or (path / "eval_test_best.json").exists():
        return
    config = yaml.safe_load((path / "config.yaml").read_text()) or {}
    if not config.get("eval_epochs"):
        return
    from emkit.engine.evaluation.evaluate_run import evaluate_run

    evaluate_run(path, split="test", device=(config.get("train") or {}).get("device", "auto"), weights_from="best")


def sweep(overrides: list[str], config_files: list[str], *, name: str, runs_dir: str = "runs") -> list[Path]:
    """Train every combination; return the run directories (under ``runs_dir/name``)."""
    from emkit.engine.launch.start import launch
    from emkit.console.progress import SequenceEta
    from emkit.engine.launch.self_pretrain import has_progress

    combos = expand(overrides)
    varying = {item.split("=", 1)[0] for item in overrides if len(split_top_level(item.split("=", 1)[1])) > 1}
    root = Path(runs_dir) / name
    paths = []
    eta = SequenceEta(len(combos))
    for i, combo in enumerate(combos, 1):
        path = root / run_name(combo, varying)
        paths.append(path)
        if (path / "generator.safetensors").exists():
            print(f"[{i}/{len(combos)}] done already: {path}", flush=True)
            continue
        if has_progress(path):
            print(f"[{i}/{len(combos)}] resuming {path}{eta.start(i)}", flush=True)
            launch([f"resume={path}"], [])
            evaluate_best(path)
            continue
        if path.exists():
            shutil.rmtree(path)  # died before its first checkpoint: nothing to keep
        print(f"[{i}/{len(combos)}] {' '.join(combo)}{eta.start(i)}", flush=True)
        launch([*combo, f"runs_dir={root}", f"name={path.name}"], config_files)
        evaluate_best(path)
    return paths
