"""Hostile generator metadata: validated against a schema with bounds before any tensor exists."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from emkit.engine.runs.weights import META_KEY, SPEC, read_spec
from emkit.errors import EmkitError


def _weights(tmp_path, meta: str | None, beside: str | bytes | None = None):
    path = tmp_path / "generator.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={META_KEY: meta} if meta is not None else None)
    if beside is not None:
        target = tmp_path / SPEC
        target.write_bytes(beside if isinstance(beside, bytes) else beside.encode())
    return path


@pytest.mark.parametrize(("meta", "message"), [
    ("{not json", "not valid JSON"),
    ("[1, 2, 3]", "must be a JSON object, got list"),
    ('"unet"', "must be a JSON object, got str"),
    ("{}", "has no 'name'"),
    ('{"name": "unet"}', "has no 'config'"),
    ('{"name": 5, "config": {}}', "'name' must be a str"),
    ('{"name": "unet", "config": [1]}', "'config' must be a dict"),
    ('{"name": "", "config": {}}', "must be a plugin name"),
    ('{"name": "unet", "config": {}, "trained_with": 3}', "'trained_with' must be a dict"),
    ('{"name": "unet", "config": {"width": 4096}}', "'generator.width': 4096 is outside the valid range"),
    ('{"name": "unet", "config": {"blocks": 1000000}}', "'generator.blocks'"),
    ('{"name": "unet", "config": {"in_channels": -3}}', "'generator.in_channels'"),
    ('{"name": "unet", "config": {"width": 1e400}}', "'generator.width'"),
    ('{"name": "unet", "config": {"pools": [2, 99999]}}', "'generator.pools[1]'"),
    ('{"name": "hrnet", "config": {"widths": [18, 100000]}}', "'generator.widths[1]'"),
    ('{"name": "unet", "config": {"evil": 1}}', "Unknown config key 'generator.evil'"),
    ('{"name": "no-such-net", "config": {}}', "Unknown generator 'no-such-net'"),
    ("[" * 100000 + "]" * 100000, "generator spec"),
])
def test_bad_embedded_spec_is_one_line_naming_the_file(tmp_path, meta, message):
    path = _weights(tmp_path, meta)
    with pytest.raises(EmkitError) as err:
        read_spec(path)
    text = str(err.value)
    assert message in text and str(path) in text and "\n" not in text, text


@pytest.mark.parametrize("beside", ["{oops", b"\xff\xfe\x00binary", "[]", '{"name": "unet", "config": {"width": 0}}'])
def test_bad_spec_beside_the_weights_names_that_file(tmp_path, beside):
    path = _weights(tmp_path, None, beside)
    with pytest.raises(EmkitError) as err:
        read_spec(path)
    assert str(tmp_path / SPEC) in str(err.value) and "\n" not in str(err.value)


def test_valid_spec_is_returned_with_its_config_normalised(tmp_path):
    path = _weights(tmp_path, json.dumps({"name": "unet", "config": {"width": 8, "blocks": 2}}))
    spec = read_spec(path)
    assert spec["name"] == "unet" and spec["config"]["width"] == 8 and spec["config"]["blocks"] == 2


def test_predict_loading_refuses_crafted_metadata_cleanly(tmp_path):
    from emkit.predict.model_loading import load_model

    path = _weights(tmp_path, '{"name": "unet", "config": {"width": 4096, "blocks": 4}}')
    with pytest.raises(EmkitError, match="4096 is outside the valid range"):
        load_model(path)
