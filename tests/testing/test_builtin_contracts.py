"""emkit's own built-in plugins pass the same contract kit third-party authors run.

Every plugin registered by the ``emkit`` distribution is collected (a built-in added
later is covered without editing this file) and each check of ``emkit.testing`` runs as
its own test case. Sizes are shrunk per kind to keep the file fast on a CPU: small
generator configs, 32-px crops from 64-px images, a small discriminator. File-based
datasets run against tiny corpora written by ``emkit.data.synthetic.export``, so none of
them is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emkit import registry
from emkit.testing import contract_checks
from emkit.testing.fixtures import one_thread  # noqa: F401  (autouse: small tensors, one thread)
from emkit.testing.harness import ContractSkip

#: Small generator configs (the generator tests' shapes) so behaviour checks stay fast.
GENERATOR_OPTIONS: dict[str, dict[str, Any]] = {
    "unet": {"config": {"blocks": 2, "width": 4}, "size": 33},
    "hrnet": {
        "config": {"stem_width": 8, "stage1_width": 4, "widths": [4, 8, 8, 8], "modules": [1, 1, 1],
                   "blocks": [1, 1, 1], "decoder_widths": [8, 4, 4]},
        "size": 33,
    },
}
#: Per-kind small overrides applied to the Config fields a plugin has.
SMALL_OBJECTIVE = {"crop": 32, "d_width": 8}
SMALL_DATA_FOR_OBJECTIVES = {"size": 64}


def builtin(kind: str) -> list[str]:
    return [name for name, specs in registry.discover(kind).items() if specs[0].distribution == "emkit"]


def _cases() -> list[Any]:
    cases = []
    for kind in registry.KINDS:
        for name in builtin(kind):
            for check in contract_checks(kind, name):
                cases.append(pytest.param(kind, name, check.check, id=f"{kind}={name}:{check.check}"))
    return cases


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Tiny on-disk corpora in each file dataset's layout -> that dataset's config values."""
    from emkit.data.packed import pack_folder
    from emkit.data.synthetic.export import write_au_hdf5, write_cem_folders, write_temimagenet

    root: Path = tmp_path_factory.mktemp("corpora")
    write_temimagenet(root / "tem", 6, size=64)
    write_au_hdf5(root / "au", 6, size=64)
    write_cem_folders(root / "cem", 6, size=64, sources=2)
    pack_folder(root / "cem", root / "packed")
    common = {"val_fraction": 0.2, "test_fraction": 0.2}
    return {
        "folder": {"root": str(root / "cem"), **common},
        "packed": {"root": str(root / "packed"), **common},
        "temimagenet": {"root": str(root / "tem"), **common},
        "paired-folder": {"root": str(root / "tem"), "target_dir": "noNoise", **common},
        "mask-folder": {"root": str(root / "tem"), "mask_dir": "circularMask", **common},
        "au-hdf5": {"root": str(root / "au"), **common},
    }


def _fields(kind: str, name: str) -> set[str]:
    import dataclasses

    return {f.name for f in dataclasses.fields(registry.load(kind, name).Config)}


def options_for(kind: str, name: str, corpora: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if kind == "generator":
        return dict(GENERATOR_OPTIONS.get(name, {}))
    if kind == "data":
        return {"config": corpora[name]} if name in corpora else {}
    fields = _fields(kind, name)
    return {"config": {k: v for k, v in SMALL_OBJECTIVE.items() if k in fields},
            "data_config": SMALL_DATA_FOR_OBJECTIVES}


def test_every_kind_has_builtins():
    assert all(builtin(kind) for kind in registry.KINDS)


@pytest.mark.parametrize("kind, name, check_id", _cases())
def test_builtin_contract(kind, name, check_id, corpora):
    options = options_for(kind, name, corpora)
    check = next(c for c in contract_checks(kind, name, **options) if c.check == check_id)
    try:
        check.run()
    except ContractSkip as exc:  # pragma: no cover - a skip here means a corpus is missing
        pytest.fail(f"built-in {kind}={name} was skipped: {exc}")
