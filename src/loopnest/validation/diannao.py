"""DianNao's published characteristics (T. Chen et al., ASPLOS 2014, Table 6, 65 nm layout; quoted
in seed 003, Dally's "Hardware for Deep Learning", 2016) against the ``diannao-like`` preset.

Table 6 by functional block (area in um^2): SB 1,153,814; NBin 427,992; NBout 433,906; NFU
846,563; the accelerator 3,023,077 (3.02 mm^2, with CP, AXIMUX, other logic and 811,632 of filler
cells). Throughput: 452 GOP/s at 0.98 GHz. Ours: the preset's area model (loopnest.arch.laws:
one SRAM of the three buffers' capacity; 256 MACs and the 16 x 16 broadcast/reduction network for
the NFU) and the peak of 2 operations per MAC per cycle. Each tolerance is half a unit in the last
printed digit; the area law is a model of generic SRAM and logic, not of DianNao's wide
multi-ported buffers, so these cases show how far it is rather than pass.

DaDianNao (Y. Chen et al., MICRO 2014), DianNao's multi-tile successor: its node's 67.73 mm^2 at
28 nm against the ``dadiannao-like`` preset's area (its 36 MB of eDRAM costed by the SRAM law).
"""

from __future__ import annotations

from typing import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

DADIANNAO = ("DaDianNao (Chen et al., MICRO 2014)", "67.73", "node area (mm^2), 28 nm")
SOURCE = "DianNao (Chen et al., ASPLOS 2014), Table 6 and text; seed 003"
BASIS = "half a unit in the last digit each DianNao figure is printed with (e.g. 452 GOP/s: 0.5 GOP/s)"
# block -> (figure as printed, metric)
TABLE_6 = {
    "buffers": ("2015712", "SB + NBin + NBout area (um^2): 1,153,814 + 427,992 + 433,906"),
    "nfu": ("846563", "NFU area (um^2): 256 MACs + the 16 x 16 network"),
    "total": ("3023077", "accelerator area (um^2)"),
    "peak": ("452", "peak throughput (GOP/s), 2 ops per MAC per cycle at 980 MHz"),
}


def ours() -> dict[str, float]:
    """The diannao-like preset's figures for each TABLE_6 entry."""
    from loopnest.arch import load_arch

    a = load_arch("diannao-like")
    buffers = next(lv for lv in a.levels if lv.name == "Buffers")
    nfu = a.pes * (a.compute.area_um2 or 0.0) + (buffers.fanout.area_um2 or 0.0)
    return {"buffers": buffers.area_um2 or 0.0, "nfu": nfu, "total": a.total_area_um2,
            "peak": 2 * a.pes * a.clock_mhz / 1000}


def cases() -> Iterator[Case]:
    got = ours()
    for key, (printed, metric) in TABLE_6.items():
        yield Case(f"diannao-like {key}", SOURCE, metric, float(printed), got[key], exact=False,
                   tolerance=printed_tolerance(printed), basis=BASIS)
    from loopnest.arch import load_arch

    source, printed, metric = DADIANNAO
    yield Case("dadiannao-like area", source, metric, float(printed), load_arch("dadiannao-like").total_area_um2 / 1e6,
               exact=False, tolerance=printed_tolerance(printed), basis=BASIS.replace("DianNao", "(Da)DianNao"))
