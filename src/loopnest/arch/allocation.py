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


# ----- the ISCA 2016 equal-area family, within the paper's stated bounds ----------------------
# Chen, Emer, Sze, ISCA 2016, Sec. VI-A: at equal storage area, the total on-chip storage of the
# dataflows differs by at most ~80 kB and their global buffers by at most 2.6x; RS has a 512 B RF
# per PE and a 128 kB buffer (256 PEs). The area law above (flip-flop RFs, 15x an SRAM's area
# per byte) breaks both bounds (NLR: a 2,406 KB buffer, 18.8x). So the family uses a linear
# model, RF area per byte = RF_AREA_RATIO x the buffer's, with the ratio derived from the bounds.
BASE_RF_BYTES = 512  # RS's RF per PE; its buffer is PEs x 512 B (128 kB at 256 PEs)
PAPER_BUFFER_RATIO = 2.6  # the largest global buffer over RS's
PAPER_TOTAL_DIFF_BYTES = 80 * 1024  # the largest difference of total on-chip storage (256 PEs)


def rf_area_ratio(buffer_ratio: float = PAPER_BUFFER_RATIO, total_diff_bytes: float = PAPER_TOTAL_DIFF_BYTES,
                  pes: int = 256) -> float:
    """The largest RF-to-buffer area ratio per byte that keeps every dataflow within both bounds.

    NLR (no RF) is the extreme: its buffer is ``B0 + rho R0`` with ``R0 = B0 = PEs x 512 B`` (RS's
    RFs and buffer). Buffer bound: ``(B0 + rho R0) / B0 <= 2.6`` -> ``rho <= 1.6``. Total bound:
    ``(B0 + rho R0) - (B0 + R0) <= 80 kB`` -> ``rho <= 1 + 80 kB / 128 kB = 1.625``. So 1.6."""
    r0 = b0 = pes * BASE_RF_BYTES
    return min((buffer_ratio - 1) * b0 / r0, 1 + total_diff_bytes / r0)


RF_AREA_RATIO = rf_area_ratio()


def family_buffer_words(pes: int, rf_bytes: int, word_bits: int = 16, ratio: float = RF_AREA_RATIO) -> int:
    """The global buffer (words, rounded down) of a dataflow with ``rf_bytes`` of RF per PE, at the
    area of RS's ``PEs x 512 B`` RFs plus ``PEs x 512 B`` buffer: ``B = PEs x 512 B + ratio x PEs x
    (512 B - rf_bytes)`` (the area the smaller RFs free, at the buffer's area per byte)."""
    if not 0 <= rf_bytes <= BASE_RF_BYTES:
        raise ValueError(f"rf_bytes: {rf_bytes} B per PE; the family allows 0 to {BASE_RF_BYTES} B")
    b = pes * BASE_RF_BYTES + ratio * pes * (BASE_RF_BYTES - rf_bytes)
    return math.floor(b * 8 / word_bits + 1e-9)


def array_shape(pes: int) -> tuple[int, int]:
    """The most square X x Y array of ``pes`` PEs (X <= Y): 256 -> 16 x 16, 168 -> 12 x 14."""
    x = max(d for d in range(1, math.isqrt(pes) + 1) if pes % d == 0)
    return x, pes // x


FAMILY_DATAFLOWS = ("ws", "os-a", "os-b", "os-c", "nlr", "rs")


def family_arch(dataflow: str, pes: int, table: str | None = None):
    """The equal-area architecture of ``dataflow`` (ws, os-a/b/c, nlr, rs) at any PE count: the
    ``eyeriss256-<dataflow>`` preset with ``array_shape(pes)`` PEs, the same RF per PE, and the
    buffer of ``family_buffer_words`` (at 256 PEs: the preset itself)."""
    from loopnest.arch.loader import parse_arch, preset_path, read_spec

    df = dataflow.lower()
    if df not in FAMILY_DATAFLOWS:
        raise ValueError(f"dataflow: {dataflow!r} has no equal-area preset; known: {', '.join(FAMILY_DATAFLOWS)}")
    spec = read_spec(preset_path(f"eyeriss256-{df}"))
    base = parse_arch(spec, f"eyeriss256-{df}", table)
    if pes == 256:
        return base
    rf = base.levels[2] if len(base.levels) > 2 else None
    rf_bytes = rf.capacity_words * rf.word_bits // 8 if rf is not None else 0
    x, y = array_shape(pes)
    levels = [dict(lv) for lv in spec["levels"]]
    levels[1] |= {"capacity_words": family_buffer_words(pes, rf_bytes, base.levels[1].word_bits),
                  "fanout": dict(levels[1]["fanout"]) | {"x": x, "y": y}}
    name = f"eyeriss{pes}-{df}"
    desc = (f"ISCA 2016 equal-area family at {pes} PEs ({x} x {y}), {dataflow.upper()}: {rf_bytes} B RF/PE, "
            f"{levels[1]['capacity_words'] * 2 / 1024:.1f} KB buffer (docs/arch.md)")
    return parse_arch(spec | {"name": name, "description": desc, "levels": levels}, name, table)
