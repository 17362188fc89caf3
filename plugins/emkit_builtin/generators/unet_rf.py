"""Receptive-field arithmetic of the residual U-Net and the paper's nine presets.

Sytwu et al. name their networks ``U-Net_B_RF``: B encoder blocks (network
complexity) and a receptive field RF in pixels. With pooling factors ``p_1..p_B``
(the pool after encoder block ``i`` is ``p_{i+1}``) and dilations ``d_0..d_B`` (level
``i`` = encoder block ``i`` and the decoder block at the same resolution; ``d_B`` = the
bottleneck), ``J_0 = 1`` and ``J_i = p_1 ⋯ p_i``::

    RF = 1 + Σ_{i<B} [8·d_i·J_i + (p_{i+1} − 1)·J_i] + 4·d_B·J_B

(each residual block holds two 3×3 convs; every level below the bottleneck is passed
twice, down and up). All pools 2 and no dilation give 44 / 96 / 200 for B = 2 / 3 / 4.

Presets. The larger receptive fields keep every pool at 2 and dilate the deepest
stages, so the three networks of one B have the same parameters, the same
``size_multiple`` (2^B) and differ only in context — the paper's point of comparison:

    ============  ======  ==========  ===============  =========  ====================
    name          blocks  pools       dilations d_0..  per pixel  rule
    ============  ======  ==========  ===============  =========  ====================
    U-Net_2_44    2       2, 2        1, 1, 1          44         baseline
    U-Net_2_84    2       2, 2        2, 2, 2          84         deepest 3 stages ×2
    U-Net_2_116   2       2, 2        2, 3, 3          116        … and deepest 2 ×3
    U-Net_3_96    3       2, 2, 2     1, 1, 1, 1       92–100     baseline
    U-Net_3_176   3       2, 2, 2     1, 2, 2, 2       172–180    deepest 3 stages ×2
    U-Net_3_240   3       2, 2, 2     1, 2, 3, 3       236–244    … and deepest 2 ×3
    U-Net_4_200   4       2, 2, 2, 2  1, 1, 1, 1, 1    188–204    baseline
    U-Net_4_360   4       2, 2, 2, 2  1, 1, 2, 2, 2    348–364    deepest 3 stages ×2
    U-Net_4_424   4       2, 2, 2, 2  1, 1, 2, 2, 3    412–428    … and the bottleneck ×3
    ============  ======  ==========  ===============  =========  ====================

(The formula has other solutions, e.g. RF 176 from pools 2, 4, 2 and dilations
2, 1, 1, 1, where every pixel sees exactly 176 px. Such layouts change
``size_multiple`` (16 instead of 8) and the feature-map sizes, so they are not the
presets; ``pools=``/``dilations=`` accept them.)

What the number means. Max-pooling windows and nearest upsampling are aligned to a
grid, so the extent of input pixels that can change one output pixel depends on the
pixel's position modulo 2^B once B ≥ 3 ("per pixel" above, measured with ``rf_probe``).
The formula is exactly the *mean* extent over the output positions of one period;
that is what ``receptive_field`` reports, and what the tests check.
"""

from __future__ import annotations

import math
import re
from typing import Optional, Sequence

#: blocks -> {rf: (pools, dilations)}
PRESETS: dict[int, dict[int, tuple[tuple[int, ...], tuple[int, ...]]]] = {
    2: {
        44: ((2, 2), (1, 1, 1)),
        84: ((2, 2), (2, 2, 2)),
        116: ((2, 2), (2, 3, 3)),
    },
    3: {
        96: ((2, 2, 2), (1, 1, 1, 1)),
        176: ((2, 2, 2), (1, 2, 2, 2)),
        240: ((2, 2, 2), (1, 2, 3, 3)),
    },
    4: {
        200: ((2, 2, 2, 2), (1, 1, 1, 1, 1)),
        360: ((2, 2, 2, 2), (1, 1, 2, 2, 2)),
        424: ((2, 2, 2, 2), (1, 1, 2, 2, 3)),
    },
}

#: Depths a U-Net may have (presets exist for 2, 3 and 4).
MIN_BLOCKS, MAX_BLOCKS = 1, 6

_VARIANT = re.compile(r"u-?net_(\d+)_(\d+)", re.IGNORECASE)


def receptive_field(pools: Sequence[int], dilations: Sequence[int]) -> int:
    """The paper's receptive-field formula (see the module docstring)."""
    if len(dilations) != len(pools) + 1:
        raise ValueError(f"need len(dilations) == len(pools) + 1, got {len(pools)} pools, {len(dilations)} dilations")
    rf, jump = 1, 1
    for p, d in zip(pools, dilations):
        rf += 8 * d * jump + (p - 1) * jump
        jump *= p
    return rf + 4 * dilations[-1] * jump


def valid_rfs(blocks: int) -> list[int]:
    """Receptive fields accepted as ``rf=`` for a ``blocks``-deep U-Net."""
    if blocks in PRESETS:
        return sorted(PRESETS[blocks])
    return [receptive_field((2,) * blocks, (1,) * (blocks + 1))]


def preset_names() -> list[str]:
    """``["U-Net_2_44", ..., "U-Net_4_424"]``."""
    return [variant_name(b, rf) for b in sorted(PRESETS) for rf in sorted(PRESETS[b])]


def variant_name(blocks: int, rf: int) -> str:
    return f"U-Net_{blocks}_{rf}"


def parse_variant(name: str) -> tuple[int, int]:
    """``"U-Net_4_424"`` (also ``unet_4_424``) -> ``(4, 424)``; ValueError if malformed/unknown."""
    match = _VARIANT.fullmatch(name.strip())
    if not match:
        raise ValueError(f"variant {name!r} is not of the form U-Net_<blocks>_<rf>; known: {', '.join(preset_names())}")
    blocks, rf = int(match.group(1)), int(match.group(2))
    if blocks not in PRESETS or rf not in PRESETS[blocks]:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(preset_names())}")
    return blocks, rf


def resolve_layout(
    blocks: int,
    rf: Optional[int] = None,
    pools: Optional[Sequence[int]] = None,
    dilations: Optional[Sequence[int]] = None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Pools and dilations for a config; ValueError (one line) when impossible.

    Explicit ``pools``/``dilations`` win (a missing one means all 2 / all 1) and
    ``rf``, if also given, must match them; otherwise ``rf`` picks a preset and
    ``None`` means all pools 2 without dilation.
    """
    if not MIN_BLOCKS <= blocks <= MAX_BLOCKS:
        raise ValueError(f"blocks must be between {MIN_BLOCKS} and {MAX_BLOCKS}, got {blocks}")
    if pools is not None or dilations is not None:
        p = tuple(pools) if pools is not None else (2,) * blocks
        d = tuple(dilations) if dilations is not None else (1,) * (blocks + 1)
        if len(p) != blocks:
            raise ValueError(f"pools needs {blocks} entries (one per encoder block), got {list(p)}")
        if len(d) != blocks + 1:
            raise ValueError(
                f"dilations needs {blocks + 1} entries (levels 0..{blocks - 1} and the bottleneck), got {list(d)}"
            )
        if any(x < 2 for x in p):
            raise ValueError(f"pool sizes must be >= 2, got {list(p)}")
        if any(x < 1 for x in d):
            raise ValueError(f"dilations must be >= 1, got {list(d)}")
        if rf is not None and rf != receptive_field(p, d):
            raise ValueError(
                f"rf={rf} contradicts pools={list(p)} dilations={list(d)}, which give {receptive_field(p, d)}"
            )
        return p, d
    if rf is None:
        return (2,) * blocks, (1,) * (blocks + 1)
    if blocks in PRESETS and rf in PRESETS[blocks]:
        return PRESETS[blocks][rf]
    valid = ", ".join(str(r) for r in valid_rfs(blocks))
    raise ValueError(
        f"rf={rf} is not available for blocks={blocks}; valid: {valid} "
        "(or set pools=[...] and dilations=[...] explicitly)"
    )


def size_multiple(pools: Sequence[int]) -> int:
    """Input sides must divide by the product of the pools."""
    return math.prod(pools)
