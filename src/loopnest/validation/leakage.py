"""Static energy against AccelForge's Eyeriss figure: 2.02 mW of leakage is 0.060 pJ per MAC at
full speed (as quoted in loopnest issue 20 from AccelForge's Eyeriss example).

Ours: the ``eyeriss`` preset (168 PEs, 200 MHz) with 2.02 mW of static power spread over its MAC
units, costed by the model's rule (``Architecture.leakage_pj_per_cycle``: mW x 1e3 / MHz pJ per
cycle) and divided by the 168 MACs of a cycle at full speed. The figure is printed with two
significant digits, so the tolerance is half a unit in the last one (0.0005 / 0.060).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.arch import load_arch
from loopnest.validation import Case

SOURCE = "AccelForge's Eyeriss example, leakage 2.02 mW (quoted in loopnest issue 20)"
LEAKAGE_MW = 2.02


def per_mac_pj() -> float:
    """pJ of static energy per MAC on ``eyeriss`` leaking 2.02 mW, every PE busy every cycle."""
    arch = load_arch("eyeriss")
    arch = arch.model_copy(update={"compute": arch.compute.model_copy(update={"leakage_mw": LEAKAGE_MW / arch.pes})})
    return arch.leakage_pj_per_cycle / arch.pes


def cases() -> Iterator[Case]:
    yield Case("Eyeriss leakage at full speed", SOURCE, "pJ/MAC", 0.060, per_mac_pj(), exact=False,
               tolerance=0.0005 / 0.060, basis="half a unit in the last digit the figure is printed with (0.060 pJ/MAC)")
