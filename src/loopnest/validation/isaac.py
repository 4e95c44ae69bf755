"""ISAAC's per-IMA power (Shafiee et al., ISCA 2016, Table I, 32 nm) against the crossbar model on
the ``pim-crossbar`` preset (one IMA: eight 128 x 128 crossbars).

The layer fills the eight arrays exactly (K = 128 rows, M = 128 weights over 8 column tiles) and
streams 1,000 vectors of 16-bit inputs, 16 bit-serial passes each, one pass per 100 ns crossbar
cycle; a component's power is its energy over that time. Table I's figures used (per IMA unless
said): DAC 8 x 128 at 4 mW; ADC 8 at 16 mW; memristor arrays 8 at 2.4 mW; shift-and-add 4 units
at 0.2 mW; input register (2 KB) 1.24 mW; output register (256 B) 0.23 mW; 12 IMAs 289 mW; per
tile, shared by its 12 IMAs: eDRAM buffer (64 KB) 20.7 mW, eDRAM-to-IMA bus 7 mW.

Areas (Table I, mm^2): ADC 0.0096, DAC 0.00017, memristor arrays 0.0002 per IMA (the preset's
per-unit areas come from these, so their sum matches by construction); input register (2 KB)
0.0021 and output register (256 B) 0.00077 per IMA against the arch area model's eight XbarIO
register files (one per crossbar, 288 B each, the same 2,304 B); the tile's 64 KB eDRAM buffer
0.083 against the preset's SRAM TileBuffer (the model has no eDRAM).

The ADC rate: Table I prints "1.2 GSps"; the text (Sec. V) feeds a crossbar's 128 columns to one
ADC within the 100 ns cycle, "1.28 GSps". The rate case shows what the model's pipeline needs
(conversions per ADC per second) against Table I's figure; the preset's energy per conversion is
Table I's power over that pipeline's conversions (pim-crossbar.yaml).

The DAC, ADC and crossbar cases check the counting (conversions and cell reads per pass) and the
per-unit figures the preset derives from the same table; the shift-and-add, buffer and total
cases are the model's own estimates (the digital adder law and the buffers' energy tables)
against the paper. Each tolerance is half a unit in the last printed digit of the figures used.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from loopnest.validation import Case

SOURCE = "ISAAC (Shafiee et al., ISCA 2016), Table I, per IMA"
BASIS = "half a unit in the last digit of each Table I figure used (e.g. 0.2 mW: 0.05 mW)"
IMAS_PER_TILE = 12
# component -> (Table I figures in mW, as printed, and the share of each that one IMA carries)
TABLE_I = {
    "dac": ((("4", 1),), "DAC power (mW)"),
    "adc": ((("16", 1),), "ADC power (mW)"),
    "cells": ((("2.4", 1),), "memristor arrays power (mW)"),
    "digital": ((("0.2", 1),), "shift-and-add power (mW)"),
    "buffers": ((("1.24", 1), ("0.23", 1), ("20.7", 1 / IMAS_PER_TILE), ("7", 1 / IMAS_PER_TILE)),
                "IR + OR + 1/12 of the tile's eDRAM and bus (mW)"),
    "total": ((("289", 1 / IMAS_PER_TILE), ("20.7", 1 / IMAS_PER_TILE), ("7", 1 / IMAS_PER_TILE)),
              "IMA total (289 mW / 12) + 1/12 of eDRAM and bus (mW)"),
}


def _expected(figures) -> tuple[float, float]:
    """(value, relative tolerance): the shares' sum and half a unit in each figure's last digit."""
    value = sum(float(f) * w for f, w in figures)
    slack = sum(float(Decimal(5).scaleb(Decimal(f).as_tuple().exponent - 1)) * w for f, w in figures)
    return value, slack / value


# component -> (Table I areas in mm^2, as printed, with the share one IMA carries; what is compared)
AREA = {
    "converters-cells": ((("0.0096", 1), ("0.00017", 1), ("0.0002", 1)),
                         "ADC + DAC + memristor arrays area per IMA (mm^2; per-unit areas from the same rows)"),
    "io-registers": ((("0.0021", 1), ("0.00077", 1)), "IR (2 KB) + OR (256 B) area per IMA (mm^2)"),
    "tile-buffer": ((("0.083", 1),), "tile buffer area (mm^2): Table I's 64 KB eDRAM, ours SRAM"),
}
ADC_RATE_GSPS = "1.2"  # Table I, ADC row
ADCS_PER_IMA = 8


def ima_area_mm2() -> dict[str, float]:
    """Area (mm^2) of the resolved preset by Table I row: the MAC positions (cells and converters),
    the eight XbarIO register files and the TileBuffer."""
    from loopnest.arch import load_arch

    arch = load_arch("pim-crossbar")
    level = {lv.name: (i, lv) for i, lv in enumerate(arch.levels)}
    io_i, io = level["XbarIO"]
    return {"converters-cells": arch.pes * arch.compute.area_um2 / 1e6,
            "io-registers": arch.instances(io_i) * io.area_um2 / 1e6,
            "tile-buffer": level["TileBuffer"][1].area_um2 / 1e6}


def adc_rate_gsps() -> float:
    """Conversions per ADC per second (GS/s) that the model's pipeline needs on eight full arrays."""
    from loopnest.arch import load_arch
    from loopnest.model.crossbar import LayerShape, map_crossbar

    arch = load_arch("pim-crossbar")
    m = map_crossbar(LayerShape("ima", K=128, M=128, G=1, V=1000, weight_bits=16, input_bits=16), arch)
    return m.counts["adc_conversions"] / ADCS_PER_IMA / (m.cycles / (arch.clock_mhz * 1e6)) / 1e9


def ima_power_mw() -> dict[str, float]:
    """Power (mW) by component of the preset's eight arrays, full, streaming 16-bit inputs."""
    from loopnest.arch import load_arch
    from loopnest.model.crossbar import LayerShape, map_crossbar

    arch = load_arch("pim-crossbar")
    m = map_crossbar(LayerShape("ima", K=128, M=128, G=1, V=1000, weight_bits=16, input_bits=16), arch)
    seconds = m.cycles / (arch.clock_mhz * 1e6)
    power = {c: e * 1e-12 / seconds * 1e3 for c, e in m.energy_pj.items()}
    return power | {"total": sum(power.values())}


def cases() -> Iterator[Case]:
    got = ima_power_mw()
    for key, (figures, metric) in TABLE_I.items():
        value, tol = _expected(figures)
        yield Case(f"isaac-ima-{key}", SOURCE, metric, value, got[key], exact=False, tolerance=tol, basis=BASIS)
    area = ima_area_mm2()
    for key, (figures, metric) in AREA.items():
        value, tol = _expected(figures)
        yield Case(f"isaac-area-{key}", SOURCE, metric, value, area[key], exact=False, tolerance=tol, basis=BASIS)
    value, tol = _expected(((ADC_RATE_GSPS, 1),))
    yield Case("isaac-adc-rate", SOURCE, "ADC rate the 100 ns pipeline needs, 128 columns per ADC (GS/s; the text: 1.28)",
               value, adc_rate_gsps(), exact=False, tolerance=tol, basis=BASIS)
