"""Philox4x32-10: known-answer vectors, and fills independent of thread count and device."""

from __future__ import annotations

import pytest
import torch
from emkit.ops import philox4x32_10, philox_uint32
from emkit.ops._backend import cuda_unusable_reason, cuda_usable, native

requires_cuda = pytest.mark.skipif(not cuda_usable(), reason=f"CUDA not usable: {cuda_unusable_reason()}")

# Known-answer vectors of the Random123 reference (Salmon et al., SC'11).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF,) * 4,
        (0xFFFFFFFF,) * 2,
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_known_answers(counter, key, expected):
    assert philox4x32_10(counter, key) == expected


def test_fill_layout_matches_blocks():
    """Word i of a fill is word i % 4 of philox(seed, stream, offset + i // 4)."""
    seed, stream, offset = 0x1234_5678_9ABC_DEF0, 7, 2**32 - 2  # offset crosses the low word
    words = philox_uint32(4 * 5 - 1, seed, stream=stream, offset=offset)
    for block in range(5):
        idx = offset + block
        expect = philox4x32_10((idx & 0xFFFFFFFF, idx >> 32, stream, 0), (seed & 0xFFFFFFFF, seed >> 32))
        got = words[4 * block : 4 * block + 4].tolist()
        assert got == list(expect[: len(got)])


def test_fill_independent_of_thread_count():
    n, seed = 100_003, 42
    one = torch.empty(n, dtype=torch.int32)
    two = torch.empty(n, dtype=torch.int32)
    native().philox_fill_cpu(one.data_ptr(), n, seed, 3, 11, 1)
    native().philox_fill_cpu(two.data_ptr(), n, seed, 3, 11, 2)
    assert torch.equal(one, two)
    assert torch.equal(philox_uint32(n, seed, stream=3, offset=11, threads=1),
                       philox_uint32(n, seed, stream=3, offset=11, threads=2))


def test_fill_looks_uniform():
    words = philox_uint32(1 << 16, 5).double() / 2**32
    assert abs(words.mean().item() - 0.5) < 5 * (1 / 12) ** 0.5 / 256
    assert not torch.equal(philox_uint32(64, 5), philox_uint32(64, 6))


def test_bad_arguments():
    with pytest.raises(ValueError, match="n"):
        philox_uint32(-1, 0)
    with pytest.raises(ValueError, match="seed"):
        philox_uint32(4, -1)


@pytest.mark.cuda
@requires_cuda
def test_cuda_fill_equals_cpu():
    args = dict(seed=99, stream=2, offset=2**33 + 5)
    assert torch.equal(philox_uint32(10_001, device="cuda", **args).cpu(), philox_uint32(10_001, **args))


@pytest.mark.parametrize(("seed", "stream", "offset", "n"), [(0, 0, 0, 9), (2**64 - 1, 2, (15 << 40) + 12345, 103),
                                                              (123456789012345, 1, 7, 64)])
def test_pure_torch_philox_matches_the_kernel(seed, stream, offset, n):
    """The reference's own Philox (used on GPUs where emkit's kernels cannot run) is the kernels'."""
    from emkit.ops._reference import philox_words

    assert torch.equal(philox_words(n, seed, stream=stream, offset=offset),
                       philox_uint32(n, seed, stream=stream, offset=offset))
