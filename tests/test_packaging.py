"""The wheel must hold every package: exclude patterns in pyproject.toml must not match a
package folder (a bare ``runs`` once dropped ``emkit/engine/runs`` from non-editable
installs, which the editable install of the test suite could not notice)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_exclude_patterns_match_no_package_folder():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["scikit-build"]
    patterns = [*config.get("sdist", {}).get("exclude", []), *config.get("wheel", {}).get("exclude", [])]
    packages = [ROOT / p for p in config["wheel"]["packages"]]
    folders = [d for pkg in packages for d in [pkg, *pkg.rglob("*")] if d.is_dir() and (d / "__init__.py").exists()]
    assert len(folders) > 10
    for pattern in patterns:
        if pattern.startswith("/"):  # anchored to the project root: only a top-level path
            assert not any(f.relative_to(ROOT).as_posix() == pattern.strip("/") for f in folders), pattern
            continue
        hits = [f.relative_to(ROOT).as_posix() for f in folders if fnmatch.fnmatch(f.name, pattern.rstrip("/"))]
        assert not hits, f"exclude pattern {pattern!r} drops package folders {hits}; anchor it with a leading '/'"
