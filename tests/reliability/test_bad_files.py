"""Every bad input file is one clear ``EmkitError`` line naming it, or a reported skip; never a traceback.

The corpus (``bad_corpus``) is written at test time. Each image case is driven through

* the dataset path (``folder`` plugin, as ``emkit run`` builds it): ``on_error=raise``
  must raise one ``EmkitError`` naming the file; ``skip`` must leave it out and list it
  in ``problems()`` while the good image still loads;
* the predict path (``emkit predict`` in-process): ``--on-error stop`` must exit non-zero
  with one line naming the file and write nothing for it; ``skip`` must predict the good
  file and list the bad one at the end;

and each mask/pair case through ``mask-folder``. Any other exception type, a traceback
on stderr, or an output written for a file that should have been refused fails the test.
``test_corpus_counts`` prints files x paths, clear errors, tracebacks and silent outputs.
"""

from __future__ import annotations

import collections
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from emkit.data.formats import display_path
from emkit.errors import EmkitError

from bad_corpus import IMAGE_CASES, MASK_CASES, Case, noise
from run_support import needs_unet, run_cli, write_run

#: (case, path) -> outcome: "clear-error", "skipped", "ok", "warned", "traceback", "silent", "wrong".
OUTCOMES: dict[tuple[str, str], str] = {}


def _folder_with(tmp: Path, case: Case) -> tuple[Path, Path]:
    root = tmp / "data"
    root.mkdir(parents=True)
    tifffile.imwrite(root / "good.tif", noise(seed=1))
    return root, case.write(root)


def _named(message: str, bad: Path) -> bool:
    return display_path(bad.name) in message or display_path(bad) in message


# --------------------------------------------------------------------------- dataset path


def _build(name: str, **values):
    from emkit.data.build import build_dataset

    return build_dataset(name, {"val_fraction": 0.0, "test_fraction": 0.0, **values}, "train")


def _load_all(ds) -> list:
    return [ds[i] for i in range(len(ds))]


def dataset_outcome(tmp: Path, case: Case, on_error: str) -> str:
    root, bad = _folder_with(tmp, case)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = _build("folder", root=str(root), on_error=on_error, verify=on_error == "skip")
            samples = _load_all(ds)
    except EmkitError as exc:
        if on_error == "raise" and case.dataset == "error" and _named(str(exc), bad) and "\n" not in str(exc):
            return "clear-error"
        return "wrong"
    except Exception:  # noqa: BLE001 - what this suite exists to catch
        return "traceback"
    if any(not np.isfinite(s["image"].float().numpy()).all() for s in samples):
        return "silent"
    problems = ds.problems()
    if case.dataset == "error":
        if on_error == "skip" and any(_named(f, bad) for f, _ in problems) and len(samples) >= 1:
            return "skipped"
        return "silent"
    return "ok" if len(samples) == 2 and not problems else "wrong"


@pytest.mark.parametrize("on_error", ["raise", "skip"])
@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c.name for c in IMAGE_CASES])
def test_dataset_path(tmp_path, case, on_error):
    outcome = dataset_outcome(tmp_path, case, on_error)
    OUTCOMES[(case.name, f"dataset-{on_error}")] = outcome
    expected = "ok" if case.dataset == "ok" else ("clear-error" if on_error == "raise" else "skipped")
    assert outcome == expected


def test_dataset_nan_fill_replaces_with_the_median(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    arr = noise(np.float32, seed=2)
    arr[1, 2], arr[4, 4] = np.nan, np.inf
    tifffile.imwrite(root / "nan.tif", arr)
    with pytest.warns(UserWarning, match=r"nan.tif: replaced 2 NaN/Inf pixel values with the image median"):
        ds = _build("folder", root=str(root), nan="fill", normalize="none")
        image = ds[0]["image"][0].numpy()
    finite = arr[np.isfinite(arr)]
    assert image[1, 2] == image[4, 4] == pytest.approx(float(np.median(finite)))
    with pytest.raises(EmkitError, match=r"nan.tif: 2 NaN/non-finite pixel values \(nan=fill"):
        _load_all(_build("folder", root=str(root)))


# --------------------------------------------------------------------------- mask-folder path


@pytest.mark.parametrize("on_error", ["raise", "skip"])
@pytest.mark.parametrize("name,write,classes", MASK_CASES, ids=[c[0] for c in MASK_CASES])
def test_mask_path(tmp_path, name, write, classes, on_error):
    root = tmp_path / "pairs"
    (root / "image").mkdir(parents=True)
    (root / "mask").mkdir()
    tifffile.imwrite(root / "image" / "good.tif", noise(seed=1))
    tifffile.imwrite(root / "mask" / "good.tif", (noise(seed=1) > 128).astype(np.uint8))
    bad = write(root)
    outcome = "wrong"
    try:
        ds = _build("mask-folder", root=str(root), on_error=on_error, verify=on_error == "skip")
        samples = {s["source"]: s for s in _load_all(ds)}
        key = Path(bad).stem
        if classes is not None:
            got = samples[key]["mask"][0].numpy()
            outcome = "ok" if np.array_equal(got, classes) and not ds.problems() else "silent"
        elif key in samples:
            outcome = "silent"
        elif any(_named(f, Path(bad)) for f, _ in ds.problems()):
            outcome = "skipped"
    except EmkitError as exc:
        outcome = "clear-error" if classes is None and _named(str(exc), Path(bad)) else "wrong"
    except Exception:  # noqa: BLE001
        outcome = "traceback"
    OUTCOMES[(name, f"mask-{on_error}")] = outcome
    expected = "ok" if classes is not None else ("clear-error" if on_error == "raise" else "skipped")
    assert outcome == expected


def test_auto_mask_refusal_names_the_values(tmp_path):
    root = tmp_path / "pairs"
    (root / "image").mkdir(parents=True)
    (root / "mask").mkdir()
    write = dict((n, w) for n, w, _ in MASK_CASES)["mask-signed-soft"]
    write(root)
    with pytest.raises(EmkitError, match=r"msigned.tif: mask values \(1024 distinct, -1\.\.1\)"):
        _load_all(_build("mask-folder", root=str(root)))


# --------------------------------------------------------------------------- predict path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("run"), "unet", {"blocks": 2, "width": 4}, task="denoise",
                     out_scale=0.2)


def predict_outcome(tmp: Path, run: Path, case: Case, on_error: str, capsys) -> str:
    root, bad = _folder_with(tmp, case)
    out = tmp / "out"
    inputs = [str(root)] if case.name == "folder-link-loop" else [str(root / "good.tif"), str(bad)]
    if on_error == "stop" and case.name != "folder-link-loop":
        inputs = [str(bad)]
    if case.name == "symlink-loop":
        inputs = [str(root)]  # a looping link is met while listing a folder
    try:
        code, _, err = run_cli(["predict", str(run), *inputs, "--out", str(out), "-q", "--device", "cpu",
                                "--on-error", on_error], capsys)
    except Exception:  # noqa: BLE001
        return "traceback"
    if "Traceback" in err:
        return "traceback"
    written = sorted(p.name for p in out.rglob("*.tif")) if out.exists() else []
    bad_written = [w for w in written if w.startswith(display_path(Path(bad).stem)) or
                   w.startswith(Path(bad).stem)]
    lines = [line for line in err.splitlines() if line.strip()]
    if any(not np.isfinite(tifffile.imread(p)).all() for p in out.rglob("*.tif")):
        return "silent"
    if case.predict == "error":
        if bad_written:
            return "silent"
        if on_error == "stop":
            return "clear-error" if code != 0 and lines and _named(lines[-1], bad) else "wrong"
        named = any(_named(line, bad) for line in lines)
        return "skipped" if code == 0 and named and "good_pred.tif" in written else "wrong"
    if code != 0:
        return "wrong"
    if case.predict == "warn":
        return "warned" if any(line.startswith("warning:") and _named(line, bad) for line in lines) else "silent"
    return "ok" if bad_written else "wrong"


@needs_unet
@pytest.mark.parametrize("on_error", ["stop", "skip"])
@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c.name for c in IMAGE_CASES])
def test_predict_path(tmp_path, run_dir, case, on_error, capsys):
    outcome = predict_outcome(tmp_path, run_dir, case, on_error, capsys)
    OUTCOMES[(case.name, f"predict-{on_error}")] = outcome
    expected = {"ok": "ok", "warn": "warned"}.get(case.predict,
                                                   "clear-error" if on_error == "stop" else "skipped")
    assert outcome == expected


@needs_unet
def test_predict_nan_fill_reports_the_count(tmp_path, run_dir, capsys):
    arr = noise(np.float32, seed=2)
    arr[1, 2] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", arr)
    code, _, err = run_cli(["predict", str(run_dir), str(tmp_path / "nan.tif"), "--out", str(tmp_path / "o"),
                            "-q", "--device", "cpu", "--nan", "fill"], capsys)
    assert code == 0, err
    assert "nan.tif: replaced 1 NaN/Inf pixel values with the image median" in err
    assert np.isfinite(tifffile.imread(tmp_path / "o" / "nan_pred.tif")).all()


@needs_unet
def test_predict_skip_of_every_file_is_an_error(tmp_path, run_dir, capsys):
    (tmp_path / "a.tif").write_bytes(b"")
    code, _, err = run_cli(["predict", str(run_dir), str(tmp_path / "a.tif"), "--out", str(tmp_path / "o"),
                            "-q", "--on-error", "skip"], capsys)
    assert code != 0 and "no file could be predicted" in err and "a.tif" in err


# --------------------------------------------------------------------------- the counts


def test_corpus_counts(tmp_path, run_dir, capsys):
    """Fill in what the parametrised tests did not run, then print and check the totals."""
    from run_support import has_generator

    for case in IMAGE_CASES:
        for on_error in ("raise", "skip"):
            key = (case.name, f"dataset-{on_error}")
            if key not in OUTCOMES:
                OUTCOMES[key] = dataset_outcome(tmp_path / f"{case.name}-{on_error}", case, on_error)
        for on_error in ("stop", "skip"):
            key = (case.name, f"predict-{on_error}")
            if key not in OUTCOMES and has_generator("unet"):
                OUTCOMES[key] = predict_outcome(tmp_path / f"p-{case.name}-{on_error}", run_dir, case, on_error,
                                                capsys)
    counts = collections.Counter(OUTCOMES.values())
    files = len(IMAGE_CASES) + len(MASK_CASES)
    with capsys.disabled():
        print(f"\nbad-file corpus: {files} files x paths = {len(OUTCOMES)} tries; "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    assert counts["traceback"] == 0 and counts["silent"] == 0 and counts["wrong"] == 0
