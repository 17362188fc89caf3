"""Per-step seeds: every random choice of a step depends only on (run seed, rank, step)."""

from __future__ import annotations


def step_seed(base_seed: int, rank: int, step: int, salt: int = 0) -> int:
    """A 63-bit seed from (run seed, rank, step): deterministic and well mixed."""
    x = (base_seed * 0x9E3779B97F4A7C15 + rank * 0xBF58476D1CE4E5B9 + step * 0x94D049BB133111EB + salt) & (2**64 - 1)
    x ^= x >> 31
    x = (x * 0xD6E8FEB86659FD93) & (2**64 - 1)
    x ^= x >> 29
    return x & (2**63 - 1)
