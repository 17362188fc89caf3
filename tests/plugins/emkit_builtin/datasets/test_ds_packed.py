"""``emkit.data.packed`` + the ``packed`` dataset: packing, resuming, verification, zero copy."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch

from emkit.data.packed import PackedArray, pack_folder
from emkit.errors import DataError


@pytest.fixture
def corpus(tmp_path, noise_image):
    src = tmp_path / "src"
    for s, n in (("a", 9), ("b", 4)):
        (src / s).mkdir(parents=True)
        for i in range(n):
            tifffile.imwrite(src / s / f"{i:02d}.tif", noise_image((24, 24)))
    tifffile.imwrite(src / "b" / "zz_stack.tif", np.stack([noise_image((24, 24)) for _ in range(3)]),
                     photometric="minisblack")
    return src


def test_pack_roundtrip_sources_stats_and_zero_copy(build, corpus, tmp_path):
    index = pack_folder(corpus, tmp_path / "p", shard_mb=0)  # shard_mb=0: one sample per shard
    assert index["count"] == 16 and len(index["shards"]) == 16 and index["dtype"] == "uint8"
    assert index["sources"] == [{"name": "a", "start": 0, "count": 9}, {"name": "b", "start": 9, "count": 7}]
    assert 0.3 < index["stats"]["mean"] < 0.7
    arr = PackedArray(tmp_path / "p", verify=True)
    assert np.array_equal(arr.sample(3), tifffile.imread(corpus / "a" / "03.tif"))
    assert arr.key(15) == "b/zz_stack.tif#2"
    assert np.array_equal(arr.sample(15), tifffile.imread(corpus / "b" / "zz_stack.tif")[2])
    ds = build("packed", root=str(tmp_path / "p"), val_fraction=0.0)
    s = ds[0]
    assert s["image"].shape == (1, 24, 24) and s["image"].dtype == torch.uint8
    # zero copy: the sample tensor is the mapped shard memory itself
    assert np.shares_memory(s["image"].numpy(), ds.array.shards[0])


def test_splits_match_the_folder_dataset(build, corpus, tmp_path):
    pack_folder(corpus, tmp_path / "p")
    for split in ("train", "val"):
        packed = build("packed", split=split, root=str(tmp_path / "p"), val_fraction=0.3, seed=3)
        folder = build("folder", split=split, root=str(corpus), val_fraction=0.3, seed=3, stacks="all")
        assert sorted(packed[i]["source"] for i in range(len(packed))) == sorted(folder[i]["source"] for i in range(len(folder)))
    bal = build("packed", root=str(tmp_path / "p"), val_fraction=0.0, balance_sources=True)
    firsts = [bal[i]["source"][0] for i in range(len(bal))]
    assert firsts.count("a") == firsts.count("b") == 8


def test_batch_gather_keeps_order_and_pins_when_possible(build, corpus, tmp_path):
    pack_folder(corpus, tmp_path / "p", shard_mb=0)
    ds = build("packed", root=str(tmp_path / "p"), val_fraction=0.0, pin_memory=True)
    batch = ds.batch([5, 1, 2, 3, 9])
    assert batch["image"].shape == (5, 1, 24, 24)
    for j, i in enumerate([5, 1, 2, 3, 9]):
        assert torch.equal(batch["image"][j], ds[i]["image"]) and batch["source"][j] == ds[i]["source"]
    assert batch["image"].is_pinned() == torch.cuda.is_available()


def test_resume_after_interruption(corpus, tmp_path):
    out = tmp_path / "p"
    first = pack_folder(corpus, out, checkpoint_every=2, stop_after=5)
    assert first["complete"] is False and not (out / "index.json").exists()
    with pytest.raises(DataError, match="interrupted"):
        PackedArray(out)
    # a crash after the checkpoint leaves extra keys behind: resuming must drop them
    with open(out / "files.txt", "a") as fh:
        fh.write("garbage-after-checkpoint\n")
    index = pack_folder(corpus, out, checkpoint_every=2)
    fresh = pack_folder(corpus, tmp_path / "q")
    assert index["count"] == fresh["count"] == 16
    assert [s["blake2b"] for s in index["shards"]] == [s["blake2b"] for s in fresh["shards"]]
    assert (out / "files.txt").read_text() == (tmp_path / "q" / "files.txt").read_text()
    assert not (out / "progress.json").exists()
    with pytest.raises(DataError, match="already holds a complete pack"):
        pack_folder(corpus, out)


def test_a_failed_index_write_leaves_the_pack_resumable(corpus, tmp_path, monkeypatch):
    """index.json and progress.json go through the atomic writer: a failure while the index
    is written leaves no index (half or whole) and the last progress file; a rerun finishes."""
    import emkit.storage.atomic as atomic
    from emkit.errors import StorageError

    out = tmp_path / "p"
    real_replace = atomic.os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("index.json"):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(StorageError, match="index.json"):
        pack_folder(corpus, out)
    monkeypatch.undo()
    assert not (out / "index.json").exists() and json.loads((out / "progress.json").read_text())["count"] == 16
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert pack_folder(corpus, out)["count"] == 16 and PackedArray(out, verify=True).count == 16


def test_resume_refuses_changed_sources(corpus, tmp_path, noise_image):
    pack_folder(corpus, tmp_path / "p", stop_after=3)
    tifffile.imwrite(corpus / "a" / "new.tif", noise_image((24, 24)))
    with pytest.raises(DataError, match="different files or settings"):
        pack_folder(corpus, tmp_path / "p")


def test_bad_files_raise_or_are_listed(corpus, tmp_path, noise_image):
    (corpus / "a" / "empty.tif").write_bytes(b"")
    tifffile.imwrite(corpus / "b" / "odd.tif", noise_image((30, 24)))
    with pytest.raises(DataError, match="empty.tif: empty file"):
        pack_folder(corpus, tmp_path / "p")
    index = pack_folder(corpus, tmp_path / "q", on_error="skip")
    assert index["count"] == 16
    reasons = dict(index["skipped"])
    assert "empty file" in reasons["a/empty.tif"] and "--size" in reasons["b/odd.tif"]
    sized = pack_folder(corpus, tmp_path / "r", on_error="skip", size=20)
    assert sized["count"] == 17 and sized["height"] == 20


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.bin", "sub/shard.bin", "..", "", 7])
def test_shard_entries_must_stay_inside_the_pack(corpus, tmp_path, name):
    pack_folder(corpus, tmp_path / "p")
    (tmp_path / "outside.bin").write_bytes(b"\0" * 10000)
    index = json.loads((tmp_path / "p" / "index.json").read_text())
    index["shards"][0]["file"] = name
    (tmp_path / "p" / "index.json").write_text(json.dumps(index))
    with pytest.raises(DataError, match=r"index.json: file entry .* (not a plain file name|leads outside)"):
        PackedArray(tmp_path / "p")


def test_shard_link_leading_out_and_malformed_index_are_refused(corpus, tmp_path):
    pack_folder(corpus, tmp_path / "p")
    shard = tmp_path / "p" / "shard-00000.bin"
    outside = tmp_path / "elsewhere.bin"
    shard.rename(outside)
    shard.symlink_to(outside)
    with pytest.raises(DataError, match="leads outside the pack folder"):
        PackedArray(tmp_path / "p")
    index = json.loads((tmp_path / "p" / "index.json").read_text())
    del index["height"]
    (tmp_path / "p" / "index.json").write_text(json.dumps(index))
    with pytest.raises(DataError, match=r"malformed index \(KeyError"):
        PackedArray(tmp_path / "p")


def test_symlink_loop_while_packing(corpus, tmp_path):
    (corpus / "a" / "loop.tif").symlink_to("loop.tif")
    with pytest.raises(DataError, match="loop.tif: symbolic link loop"):
        pack_folder(corpus, tmp_path / "p")
    index = pack_folder(corpus, tmp_path / "q", on_error="skip")
    assert "symbolic link loop" in dict(index["skipped"])["a/loop.tif"]


def test_uint16_and_dtype_conversion(tmp_path, noise_image):
    src = tmp_path / "src"
    src.mkdir()
    tifffile.imwrite(src / "a.tif", noise_image((16, 16), np.uint16))
    tifffile.imwrite(src / "b.tif", noise_image((16, 16), np.float32))
    tifffile.imwrite(src / "c.tif", noise_image((16, 16), np.uint8))
    index = pack_folder(src, tmp_path / "p")
    assert index["dtype"] == "uint16" and index["count"] == 3
    arr = PackedArray(tmp_path / "p")
    assert np.array_equal(arr.sample(0), tifffile.imread(src / "a.tif"))
    assert arr.sample(1).max() == 65535 and arr.sample(1).min() == 0
    assert np.array_equal(arr.sample(2), tifffile.imread(src / "c.tif").astype(np.uint16) * 257)


def test_corrupt_shard_is_detected(corpus, tmp_path):
    pack_folder(corpus, tmp_path / "p")
    shard = tmp_path / "p" / "shard-00000.bin"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    PackedArray(tmp_path / "p")  # size still fine
    with pytest.raises(DataError, match="checksum mismatch"):
        PackedArray(tmp_path / "p", verify=True)
    shard.write_bytes(bytes(data[:-10]))
    with pytest.raises(DataError, match="does not match the index"):
        PackedArray(tmp_path / "p")
    index = json.loads((tmp_path / "p" / "index.json").read_text())
    assert index["format"] == "emkit-packed"
