"""Loading a run directory or weights file and deciding what its output means."""

from __future__ import annotations

import pytest
import torch

from emkit.errors import EmkitError
from emkit.predict import load_model

from run_support import needs_unet

SMALL = {"blocks": 2, "width": 4}


@needs_unet
def test_segmentation_run_is_binary_with_its_threshold(make_run):
    run = make_run("unet", SMALL, task="segmentation", threshold=0.3)
    model = load_model(run)
    assert model.head.kind == "binary" and model.head.threshold == 0.3
    assert not model.generator.training and model.size_multiple == 4 and model.receptive_field == 44
    assert model.describe()["task"] == "segmentation"


@needs_unet
def test_multiclass_and_restoration_runs(make_run):
    multi = load_model(make_run("unet", {**SMALL, "out_channels": 3}, task="segmentation", folder="m"))
    assert multi.head.kind == "multiclass" and multi.head.channels == 3
    restore = load_model(make_run("unet", SMALL, task="denoise", folder="d"))
    assert restore.head.kind == "image"
    pretext = load_model(make_run("unet", SMALL, pretext="pix2pix", folder="p"))
    assert pretext.head.kind == "image" and pretext.pretext == "pix2pix"


@needs_unet
def test_lone_weights_file_loads_with_its_embedded_spec(make_run, tmp_path):
    run = make_run("unet", SMALL, task="segmentation", write_config=False)
    lone = tmp_path / "elsewhere" / "w.safetensors"
    lone.parent.mkdir()
    lone.write_bytes((run / "generator.safetensors").read_bytes())
    model = load_model(lone)
    assert model.head.kind == "binary" and model.run_config == {}
    ref = load_model(run)
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.generator(x), ref.generator(x))


def test_errors_name_the_path(tmp_path):
    with pytest.raises(EmkitError, match="nope: no such run directory"):
        load_model(tmp_path / "nope")
    (tmp_path / "w.pt").write_bytes(b"x")
    with pytest.raises(EmkitError, match="w.pt: expected a run directory or a .safetensors"):
        load_model(tmp_path / "w.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmkitError, match="has no generator.safetensors"):
        load_model(tmp_path / "empty")


@needs_unet
def test_weights_that_do_not_fit_are_reported(make_run):
    import json

    from safetensors.torch import load_file, save_file

    run = make_run("unet", SMALL)
    weights = run / "generator.safetensors"
    tensors = load_file(str(weights))
    spec = json.loads((run / "generator.json").read_text())
    spec["config"]["width"] = 8
    save_file(tensors, str(weights), metadata={"emkit_generator": json.dumps(spec)})
    with pytest.raises(EmkitError, match="weights do not fit generator 'unet'"):
        load_model(run)
