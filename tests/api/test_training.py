"""``emkit.train``: the same run folders as the CLI, arrays like files, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml
from safetensors.torch import load_file

import emkit
from emkit.errors import ConfigError, DataError, EmkitError
from emkit.testing.fixtures import one_thread, run_emkit  # noqa: F401 (one_thread: autouse, as the CLI runs)

TINY = ["generator=unet", "generator.blocks=2", "generator.width=4", "train.batch_size=4", "train.device=cpu",
        "train.epochs=2", "train.deterministic=true", "seed=3"]
SEG = ["task=segmentation", "data=synthetic-hrtem", "data.size=64", "data.length=8", "data.val_length=2",
       "data.test_length=2", "task.crop=32", "eval_epochs=[2]", *TINY]


def weights(run: Path) -> dict:
    return load_file(str(run / "generator.safetensors"))


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)


def epoch_metrics(run: emkit.Run) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "ops"} for row in run.epochs()]


def test_api_and_cli_give_identical_runs(tmp_path: Path) -> None:
    api = emkit.train(*SEG, runs_dir=tmp_path / "api", name="r", progress=False)
    proc = run_emkit("run", *SEG, f"runs_dir={tmp_path / 'cli'}", "name=r", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cli = emkit.Run.open(tmp_path / "cli" / "r")
    assert same_weights(api.path, cli.path)
    assert epoch_metrics(api) == epoch_metrics(cli) and api.final("test_dice") is not None
    strip = lambda c: {k: v for k, v in c.items() if k != "runs_dir"}  # noqa: E731 - the two folders differ
    assert strip(api.config) == strip(cli.config)


def test_keyword_settings_equal_key_value_words(tmp_path: Path) -> None:
    words = emkit.train(*SEG, "train.epochs=1", runs_dir=tmp_path, name="w", progress=False)
    kwargs = emkit.train(*[w for w in SEG if not w.startswith(("train.", "generator"))], train={
        "batch_size": 4, "device": "cpu", "epochs": 1, "deterministic": True}, generator={
        "name": "unet", "blocks": 2, "width": 4}, runs_dir=tmp_path, name="k", progress=False)
    assert same_weights(words.path, kwargs.path)
    assert kwargs.config["train"]["epochs"] == 1 and kwargs.config["generator"]["width"] == 4


def stem_arrays(n: int, seed: int, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    data = emkit.synthesize("stem", n, size=64, seed=seed, split=split)
    return (data.image * 255).astype(np.uint8), data.target.astype(np.float32)


def test_arrays_equal_the_same_arrays_written_as_files(tmp_path: Path) -> None:
    images, targets = stem_arrays(6, 0)
    val = stem_arrays(2, 0, "val")
    common = ["task=background-removal", "task.crop=32", *TINY]
    from_arrays = emkit.train(*common, images=images, targets=targets, val=val, runs_dir=tmp_path / "a",
                              name="a", progress=False)
    folder = tmp_path / "by-hand"
    for sub in ("image", "target", "splits"):
        (folder / sub).mkdir(parents=True)
    keys = {"train": [], "val": []}
    for split, (imgs, tgts) in (("train", (images, targets)), ("val", val)):
        for i, (img, tgt) in enumerate(zip(imgs, tgts)):
            key = f"{split}{i}"
            tifffile.imwrite(folder / "image" / f"{key}.tif", img)
            tifffile.imwrite(folder / "target" / f"{key}.tif", tgt)
            keys[split].append(key)
    for split in ("train", "val", "test"):
        (folder / "splits" / f"{split}.txt").write_text("".join(f"{k}\n" for k in keys.get(split, [])))
    from_files = emkit.train(*common, "data=paired-folder", f"data.root={folder}",
                             f"data.split_files={folder / 'splits'}", runs_dir=tmp_path / "f", name="f",
                             progress=False)
    assert same_weights(from_arrays.path, from_files.path)
    assert epoch_metrics(from_arrays) == epoch_metrics(from_files)
    data = from_arrays.config["data"]
    assert data["name"] == "paired-folder" and Path(data["root"]).parent == tmp_path / "a" / ".arrays"


def test_masks_with_torch_tensors_and_patches(tmp_path: Path) -> None:
    import torch

    data = emkit.synthesize("hrtem", 2, size=128, seed=1)
    run = emkit.train("task=segmentation", *TINY, "train.epochs=1", images=torch.from_numpy(data.image),
                      masks=data.mask, patch=64, runs_dir=tmp_path, progress=False)
    assert run.finished and run.config["task"]["crop"] == 64  # the patch side became the crop
    assert len(list((Path(run.config["data"]["root"]) / "image").iterdir())) == 8


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"images": np.ones((2, 64, 64))}, DataError, "images= needs masks= .one per image. for this task"),
    ({"images": np.ones((2, 64, 64)), "targets": np.ones((2, 64, 64))}, DataError,
     "targets=: this task learns from masks=, not targets="),
    ({"images": np.ones((2, 64, 64)), "masks": np.ones((3, 64, 64))}, DataError,
     "images has 2 image.s. but masks has 3"),
    ({"images": np.ones((64, 64)), "masks": np.ones((32, 64))}, DataError, r"differ in shape"),
    ({"images": np.full((64, 64), np.nan), "masks": np.ones((64, 64))}, DataError, "NaN/Inf"),
    ({"images": np.ones(4), "masks": np.ones(4)}, DataError, "expected a 2-D image"),
    ({"images": np.zeros((0, 64, 64)), "masks": np.zeros((0, 64, 64))}, DataError, "empty"),
    ({"masks": np.ones((64, 64))}, DataError, "go with images="),
    ({"images": np.ones((2, 64, 64)), "masks": np.ones((2, 64, 64)), "val": np.ones(3)}, DataError,
     r"val=: expected \(images, masks\)"),
])
def test_bad_arrays_are_one_line_naming_the_argument(tmp_path, kwargs, error, message) -> None:  # noqa: ANN001
    with pytest.raises(error, match=message):
        emkit.train("task=segmentation", *TINY, runs_dir=tmp_path, progress=False, **kwargs)
    assert not any(p.is_dir() and p.name != ".arrays" for p in tmp_path.iterdir())  # nothing started


def test_arrays_need_a_task(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="images= needs a downstream task"):
        emkit.train("pretext=pix2pix", images=np.ones((2, 64, 64)), masks=np.ones((2, 64, 64)), runs_dir=tmp_path)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (["train.epochz=3"], {}, "Unknown config key 'train.epochz'"),
    ([], {"generator": "hrnett"}, "Did you mean 'hrnet'"),
    (["--epochs", "5"], {}, "did you mean train.epochs=5"),
    (["epochs"], {}, r"argument 3 \('epochs'\): expected a key=value string"),
])
def test_settings_are_validated_like_the_cli(tmp_path, args, kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(EmkitError, match=message):
        emkit.train("task=segmentation", "data=synthetic-hrtem", *args, runs_dir=tmp_path, progress=False, **kwargs)


def test_run_object_reads_the_folder(tmp_path: Path) -> None:
    run = emkit.train(*SEG, "train.keep_best=val_dice", runs_dir=tmp_path, name="b", progress=False)
    assert run.weights == run.path / "generator.safetensors" and run.best_weights is not None
    assert [r["epoch"] for r in run.epochs()] == [1, 2] and isinstance(run.final("val_dice"), float)
    assert yaml.safe_load((run.path / "config.yaml").read_text()) == run.config
    assert emkit.Run.open(run.path).config == run.config
    with pytest.raises(EmkitError, match="not an emkit run folder"):
        emkit.Run.open(tmp_path)
