"""Equal-area storage allocation (Eyeriss ISCA 2016, Sec. VI-A): every dataflow gets the same
total storage area as the baseline ``PEs x Area(512 B RF) + Area(PEs x 512 B global buffer)``;
a dataflow with a smaller RF per PE spends the area it saves on a bigger global buffer.

Areas come from the physical area law of ``loopnest.arch.laws`` (small RFs cost more area per
byte than a large SRAM). The buffer size has a closed form: with ``A(bits) = k (bits + 2 p
sqrt(bits))`` (``k`` = cell area at the node, ``p`` = ``PERIPHERY_CELLS``), ``sqrt(bits) =
-p + sqrt(p^2 + A / k)``.
"""

from __future__ import annotations

import math

from loopnest.arch.laws import (
    PERIPHERY_CELLS,
    SRAM_CELL_UM2,
    area_scale,
    memory_area_um2,
)
from loopnest.arch.queries import MemoryQuery


def rf_area_um2(words: int, word_bits: int, node_nm: float, cls: str = "regfile") -> float:
    """Area of one PE's RF (0 words: no RF)."""
    return memory_area_um2(MemoryQuery(cls, words, word_bits, 1, node_nm)) if words else 0.0


def buffer_area_um2(words: int, word_bits: int, node_nm: float) -> float:
    return memory_area_um2(MemoryQuery("sram", words, word_bits, 1, node_nm))


def baseline_area_um2(pes: int = 256, rf_bytes: int = 512, word_bits: int = 16, node_nm: float = 65,
                      rf_cls: str = "regfile") -> float:
    """``PEs x Area(rf_bytes RF) + Area(PEs x rf_bytes buffer)`` in um^2."""
    words = rf_bytes * 8 // word_bits
    return pes * rf_area_um2(words, word_bits, node_nm, rf_cls) + buffer_area_um2(pes * words, word_bits, node_nm)


def equal_area_buffer_words(total_um2: float, pes: int, rf_words: int, word_bits: int = 16, node_nm: float = 65,
                            rf_cls: str = "regfile", round_words: int = 512) -> int:
    """Largest buffer (words, a multiple of ``round_words``) such that PE RFs plus buffer fit ``total_um2``."""
    left = total_um2 - pes * rf_area_um2(rf_words, word_bits, node_nm, rf_cls)
    if left <= 0:
        raise ValueError(f"{pes} RFs of {rf_words} words alone exceed the area budget of {total_um2:.0f} um^2")
    k, p = SRAM_CELL_UM2 * area_scale(node_nm), PERIPHERY_CELLS
    root = -p + math.sqrt(p * p + left / k)
    words = math.floor(root * root / word_bits + 1e-6)  # tolerance: the baseline itself must round-trip
    return words // round_words * round_words
