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


FAMILY_PES = 256  # the shipped family: eyeriss256-<dataflow>.yaml, the ISCA 2016 setting


def array_shape(pes: int) -> tuple[int, int]:
    """(rows, columns) of ``pes`` PEs, as square as the count allows: rows is its largest divisor
    at most sqrt(pes) (256 -> 16 x 16, Eyeriss's 168 -> 12 x 14)."""
    rows = max(d for d in range(1, math.isqrt(pes) + 1) if pes % d == 0)
    return rows, pes // rows


def equal_area_spec(dataflow: str, pes: int) -> dict:
    """The spec (plain data) of ``eyeriss<pes>-<dataflow>``: the shipped 256-PE preset of that
    dataflow with its array reshaped to ``array_shape(pes)`` and its global buffer resized by the
    same equal-area rule at ``pes`` PEs: RS keeps the baseline ``pes x 512 B``; the others get the
    largest whole-KB buffer that, with their ``pes`` RFs, fits the baseline's area."""
    from loopnest.arch.loader import load_arch, preset_path, read_spec

    if pes < 1:
        raise ValueError(f"a PE count must be at least 1, got {pes}")
    df = dataflow.lower()
    shipped = f"eyeriss{FAMILY_PES}-{df}"
    base = load_arch(shipped)  # the resolved preset: its RF size, word width and node
    data = read_spec(preset_path(shipped))
    rf = base.levels[2] if len(base.levels) > 2 else None
    rf_words, bits, node = (rf.capacity_words if rf else 0), base.levels[1].word_bits, base.technology_nm
    baseline_rf_words = load_arch(f"eyeriss{FAMILY_PES}-rs").levels[2].capacity_words
    if df == "rs":
        words = pes * baseline_rf_words
    else:
        total = baseline_area_um2(pes, baseline_rf_words * bits // 8, bits, node)
        words = equal_area_buffer_words(total, pes, rf_words, bits, node)
    rows, cols = array_shape(pes)
    buffer = next(lv for lv in data["levels"] if lv["name"] == base.levels[1].name)
    buffer["capacity_words"] = words
    buffer["fanout"] = {**buffer["fanout"], "x": cols, "y": rows}
    data["name"] = f"eyeriss{pes}-{df}"
    data["description"] = (f"equal-area family derived for {pes} PEs ({rows} x {cols}) from {shipped}: "
                           f"{rf_words * bits // 8} B RF/PE, {words * bits // 8 // 1024} KiB buffer")
    return data
