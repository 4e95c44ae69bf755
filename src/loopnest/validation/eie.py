"""EIE's published figures (Han et al., ISCA 2016, abstract; seed 002, Keutzer et al., co-design talk)
against the ``eie-like`` preset.

- "102 GOP/s working directly on a compressed network" (the abstract): ours is the preset's peak,
  2 operations per MAC x 64 PEs x 800 MHz = 102.4 GOP/s (on the compressed network every MAC is a
  non-zero one, so peak and delivered agree when the PEs are balanced).
- "131K weights compressed storage per PE" (seed 002): ours is the sparse-matrix SRAM's capacity per
  PE in 4-bit weights.
Tolerance: half a unit in the last printed digit (102: 0.5 GOP/s; 131K: 0.5K).

Not checked: the abstract's 3 TOP/s uncompressed-equivalent and 1.88 x 10^4 AlexNet FC frames/s,
which need the pruned networks' per-layer weight and activation densities (not in the seeds).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

SOURCE = "EIE (Han et al., ISCA 2016), abstract; Keutzer et al., co-design talk"
BASIS = "half a unit in the last digit each figure is printed with (102 GOP/s: 0.5 GOP/s; 131K: 0.5K)"


def ours() -> dict[str, float]:
    from loopnest.arch import load_arch

    a = load_arch("eie-like")
    spmat = a.levels[a.level_index("SpmatSRAM")]
    return {"peak": 2 * a.pes * a.clock_mhz / 1000, "weights_per_pe": spmat.capacity_words / a.pes}


def cases() -> Iterator[Case]:
    got = ours()
    yield Case("eie-like peak", SOURCE, "GOP/s on the compressed network (2 ops per MAC)", 102.0, got["peak"],
               exact=False, tolerance=printed_tolerance("102"), basis=BASIS)
    yield Case("eie-like weights per PE", SOURCE, "compressed weights stored per PE (131K)", 131e3, got["weights_per_pe"],
               exact=False, tolerance=0.5e3 / 131e3, basis=BASIS)
