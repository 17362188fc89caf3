"""pretext_study's ``--arms``: it trains only the named arms (and the corpus runs they need),
and an unknown arm name is one clear error listing the known ones."""

from __future__ import annotations

import pytest

from benchmarks.studies import pretext_study


def test_unknown_arm_is_named(tmp_path):
    with pytest.raises(SystemExit) as info:
        pretext_study.main(["--dry-run", "--out", str(tmp_path), "--sections", "probe", "--arms", "random,nope"])
    message = str(info.value)
    assert "nope" in message and "hrnet-random" in message.split("expected", 1)[1]


def test_only_the_named_arms_train(tmp_path):
    pretext_study.main(["--dry-run", "--out", str(tmp_path), "--sections", "hrnet", "--tasks", "stem-background-removal",
                        "--arms", "hrnet-random"])
    trained = {p.parents[2].name for p in tmp_path.glob("*/*/seed0/*/config.yaml")}
    assert trained == {"hrnet-random"}
    assert not (tmp_path / "corpus").exists()  # no arm named needs a corpus pretext run
