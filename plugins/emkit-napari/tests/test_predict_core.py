"""The Qt-free predict engine: layer checks, plane-by-plane prediction, the layers it makes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emkit.errors import EmkitError
from emkit_napari import predict_core as core


@dataclasses.dataclass
class FakeModel:
    """A model whose output is known: channel c of plane p is the input times (c + 1) / 10."""

    kind: str = "multiclass"
    channels: int = 3
    threshold: float = 0.5
    name: str = "fake"

    def count_tiles(self, height: int, width: int) -> int:
        return 2

    def predict_plane(self, plane, where, on_tiles):  # noqa: ANN001, ANN201
        on_tiles(1)
        on_tiles(1)
        return np.stack([plane * (c + 1) / 10 for c in range(self.channels)]).astype(np.float32)


def test_predict_array_keeps_leading_axes_and_reports_tiles() -> None:
    arr = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    seen = []
    out = core.predict_array(FakeModel(), arr, "x", lambda d, t: seen.append((d, t)))
    assert out.shape == (2, 3, 3, 8, 8)
    np.testing.assert_allclose(out[1, 2, 1], arr[1, 2] * 2 / 10, rtol=1e-6)
    assert seen[-1] == (12, 12) and len(seen) == 12


def test_multiclass_layers() -> None:
    values = core.predict_array(FakeModel(), np.ones((4, 4), np.float32), "x")
    prob, mask = core.prediction_layers(FakeModel(), values, "img", scale=(2.0, 2.0), translate=(1.0, 1.0))
    assert prob[2] == "image" and prob[0].shape == (3, 4, 4) and prob[1]["scale"] == (1.0, 2.0, 2.0)
    assert prob[1]["translate"] == (0.0, 1.0, 1.0)
    assert mask[2] == "labels" and mask[0].dtype == np.uint8 and (mask[0] == 2).all()
    assert mask[1]["name"] == "img (fake) mask" and mask[1]["scale"] == (2.0, 2.0)


def test_binary_threshold_override() -> None:
    model = FakeModel(kind="binary", channels=1)
    values = np.array([[[0.2, 0.6], [0.4, 0.9]]], np.float32)
    [mask] = core.prediction_layers(model, values, "s", threshold=0.5, probability=False)
    np.testing.assert_array_equal(mask[0], [[0, 1], [0, 1]])
    assert mask[1]["metadata"]["threshold"] == 0.5


def test_cancel_raises_between_tiles() -> None:
    with pytest.raises(core.Cancelled, match="after 1 of 2 tiles"):
        core.predict_array(FakeModel(), np.ones((4, 4)), "x", should_stop=lambda: True)


@pytest.mark.parametrize(("data", "rgb", "message"), [
    (np.ones((4, 4, 3)), True, "is RGB"),
    (np.ones(5), False, "expected a 2-D image"),
    (np.array([[np.nan, 1.0], [1.0, 1.0]]), False, "1 NaN/non-finite pixel values; fill or crop"),
    (np.array([["a", "b"], ["c", "d"]]), False, "unsupported pixel type"),
])
def test_check_layer_refusals(data: np.ndarray, rgb: bool, message: str) -> None:
    with pytest.raises(EmkitError, match=message):
        core.check_layer(data, "L", rgb)


def test_run_model_matches_emkit_predict(seg_run, tmp_path) -> None:  # noqa: ANN001
    """Same numbers as `emkit predict` on the same image written as a TIFF."""
    import tifffile
    from typer.testing import CliRunner

    from emkit.cli.app import app
    from emkit_napari.sample_data import synthetic_stem

    image = synthetic_stem(96)[0][0]
    tifffile.imwrite(tmp_path / "in.tif", image)
    result = CliRunner().invoke(app, ["predict", str(seg_run), str(tmp_path / "in.tif"), "--out",
                                      str(tmp_path / "out"), "--tile", "64", "--device", "cpu", "-q"])
    assert result.exit_code == 0, result.output
    model = core.open_model(seg_run, core.TileOptions(tile=64, device="cpu"))
    values = core.predict_array(model, image, "in")
    np.testing.assert_allclose(values[0], tifffile.imread(tmp_path / "out" / "in_prob.tif"), atol=1e-6)


def test_unusable_device_names_the_choice(seg_run) -> None:  # noqa: ANN001
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is usable here")
    with pytest.raises(EmkitError, match="^Device 'cuda': torch cannot use CUDA on this machine; choose auto or cpu$"):
        core.open_model(seg_run, core.TileOptions(device="cuda"))


def test_restoration_residual_layer_is_input_minus_output(denoise_run, tmp_path) -> None:  # noqa: ANN001
    """The residual layer holds exactly what `emkit predict --save-residual` writes, on a signed scale."""
    import tifffile
    from typer.testing import CliRunner

    from emkit.cli.app import app
    from emkit_napari.sample_data import synthetic_stem

    image = synthetic_stem(96)[0][0]
    tifffile.imwrite(tmp_path / "in.tif", image)
    result = CliRunner().invoke(app, ["predict", str(denoise_run), str(tmp_path / "in.tif"), "--out",
                                      str(tmp_path / "out"), "--tile", "64", "--device", "cpu", "-q",
                                      "--save-residual"])
    assert result.exit_code == 0, result.output
    model = core.open_model(denoise_run, core.TileOptions(tile=64, device="cpu", residual=True))
    values = core.predict_array(model, image, "in")
    assert values.shape == (2, 96, 96) and model.channels == 1 and isinstance(model.notes, list)
    np.testing.assert_allclose(values[1], tifffile.imread(tmp_path / "out" / "in_residual.tif"), atol=1e-6)
    restored, residual = core.prediction_layers(model, values, "in")
    assert restored[0].shape == (96, 96) and restored[1]["name"] == f"in ({model.name}) restored"
    assert residual[1]["name"] == f"in ({model.name}) residual (input - restored)" and residual[2] == "image"
    low, high = residual[1]["contrast_limits"]
    assert low == -high > -1 and residual[1]["colormap"]["name"] == "emkit signed"
    plain = core.open_model(denoise_run, core.TileOptions(tile=64, device="cpu"))
    assert core.predict_array(plain, image, "in").shape == (1, 96, 96)
