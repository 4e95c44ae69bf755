"""The published figures the PIM presets can be checked against (issue 15):

* ``sram-cim``: Sinangil et al., JSSC 2021 (7 nm SRAM CIM macro; title and abstract): 1024
  4b x 4b MACs at once, 372.4 GOPS, 351 TOPS/W. A layer that fills the macro (64 rows x 16
  weights, 1,000 input vectors of 4 bits) is mapped by the crossbar mapper; GOPS = 2 x MACs /
  (cycles / clock); TOPS/W = 2 x MACs / the macro's energy (DAC + ADC + cells: the paper's
  figure is the macro's, without our input/output register). The throughput checks the counting
  (one pass per 4-bit input, one pass per 5.5 ns access); the efficiency holds by construction
  of the preset's per-MAC figure (its header).
* ``mythic-like``: the Mythic figures of Keutzer et al.'s co-design talk (5 MB on chip; "0.5
  pJ/MAC"). 0.5 pJ/MAC holds on full arrays by construction; ResNet-50 at 8 bits on the same preset (the crossbar mapper, the
  buffers included) checks the claim on a real network, where small layers leave the 1024 x
  1024 arrays mostly empty: a case outside its tolerance says how far the claim is from it.
* SRAM CIM area: Sinangil et al.'s macro area is not in the figures we could read (title,
  abstract, citing pages), so the area rule ``sram-cim`` uses for its cells (the arch area model's
  45 nm 6T cell scaled by node squared, x 1.3 for an 8T cell, no converter area) is checked on a
  macro that publishes both energy and area: IMAGINE (Kneip et al., IEEE TCAS-AI 2025, arXiv
  2412.19750; abstract): a 1152 x 256 charge-based SRAM CIM macro in 22 nm FD-SOI, input-serial
  and weight-parallel (no DACs), measured 187 kB/mm^2 and peak 0.15-8 POPS/W and 2.6-154
  TOPS/mm^2 from 8-bit to 1-bit operation. Our macro (1-bit cells, 8 per 8-bit weight, inputs one
  bit per pass) is mapped by the crossbar mapper. Its 8-bit energy is put in the cell reads, so
  0.15 POPS/W holds by construction; the 1-bit efficiency and the 1-bit over 8-bit throughput per
  area then follow from the counting rules (passes x cells per weight: 64x), against the paper's
  8 / 0.15 = 53x and 154 / 2.6 = 59x. Read as 8-bit inputs and weights against 1-bit both.
* The Accelergy-for-PIM breakdown (Wu et al., ISPASS 2020, as shown in Sze's 2020 talk, slide
  "Accelergy for PIM"): VGG's energy on a Cascade-like ReRAM design (Cascade, MICRO 2019), with
  the A/D conversion 66.9 % of it by Accelergy (67.9 % by Cascade's own figures). Only that share
  can be read with certainty from the slide (the other percentages cannot be matched to their
  components). Ours: the ADC's share of VGG-16 on ``pim-crossbar``, an ISAAC-like design, not
  Cascade, so the case compares the size of the A/D share, not one design's numbers.
"""

from __future__ import annotations

from typing import Iterator

from loopnest.validation import Case

SINANGIL = "Sinangil et al., JSSC 2021 (7 nm SRAM CIM macro), title and abstract"
MYTHIC = "Keutzer et al., co-design talk, slide 'Analog Computing: Mythic' (40 nm flash, 8-bit, 5 MB, 0.5 pJ/MAC)"
IMAGINE = "Kneip et al., IMAGINE, IEEE TCAS-AI 2025 (arXiv 2412.19750), abstract: 1152x256 SRAM CIM macro, 22 nm, measured"
ACCELERGY_PIM = "Wu et al., ISPASS 2020 (Accelergy for PIM), VGG on a Cascade-like design, via Sze, 2020 talk"
PRINTED = "half a unit in the last printed digit of the published figure"
# IMAGINE's macro as a crossbar: 1152 rows x 256 1-bit cells, inputs one bit per pass, 8 cells per 8-bit weight
IMAGINE_NM, IMAGINE_ROWS, IMAGINE_COLUMNS = 22, 1152, 256
IMAGINE_POPS_PER_W = {8: "0.15", 1: "8"}  # peak macro energy efficiency by operand bits
IMAGINE_TOPS_PER_MM2 = {8: "2.6", 1: "154"}
IMAGINE_KB_PER_MM2 = "187"


def _printed(figure: str) -> float:
    """Relative tolerance of a figure as printed: half a unit in its last digit."""
    from loopnest.validation.eyeriss_chip import printed_tolerance

    return printed_tolerance(figure)


def sram_cim_figures() -> dict[str, float]:
    """MACs per access, GOPS and TOPS/W of the sram-cim preset on a layer that fills the macro."""
    from loopnest.arch import load_arch
    from loopnest.model.crossbar import LayerShape, array_count, map_crossbar

    arch = load_arch("sram-cim")
    pim = arch.compute.pim
    m = map_crossbar(LayerShape("full", K=pim.rows, M=pim.weights_per_row, G=1, V=1000, weight_bits=4, input_bits=4), arch)
    macs = m.shape.macs
    seconds = m.cycles / (arch.clock_mhz * 1e6)
    macro_pj = m.energy_pj["dac"] + m.energy_pj["adc"] + m.energy_pj["cells"]
    return {"macs_per_access": array_count(arch) * pim.rows * pim.weights_per_row, "gops": 2 * macs / seconds / 1e9,
            "tops_per_w": 2 * macs / (macro_pj * 1e-12) / 1e12}


def mythic_figures() -> dict[str, float]:
    """On-chip weight MB, pJ/MAC on full arrays (converters and cells) and on ResNet-50 at 8 bits."""
    from loopnest.arch import load_arch
    from loopnest.model.crossbar import LayerShape, array_count, map_crossbar
    from loopnest.search.crossbar import map_network_crossbar
    from loopnest.workload.precision import apply_precision, load_precision
    from loopnest.workload.zoo import build

    arch = load_arch("mythic-like")
    pim = arch.compute.pim
    full = map_crossbar(LayerShape("full", K=pim.rows, M=pim.weights_per_row, G=1, V=100, weight_bits=8, input_bits=8), arch)
    net = apply_precision(build("resnet50"), *load_precision("weights=8,inputs=8"))
    r50 = map_network_crossbar(net, arch, per_layer=False)["totals"]
    return {"on_chip_mb": array_count(arch) * pim.rows * pim.columns * pim.bits_per_cell / 8 / 2**20,
            "pj_per_mac_full": (full.energy_pj["dac"] + full.energy_pj["adc"] + full.energy_pj["cells"]) / full.shape.macs,
            "pj_per_mac_resnet50": r50["pj_per_mac"], "resnet50_utilization": r50["utilization"]}


def imagine_figures() -> dict[str, float]:
    """IMAGINE's macro by our model: density by sram-cim's cell-area rule, and POPS/W and MACs per
    cycle at 8 and 1 bits from the crossbar mapper (8-bit energy in the cell reads)."""
    from loopnest.arch import load_arch
    from loopnest.arch.pim import PimArray, pim_mac_area_um2
    from loopnest.model.crossbar import LayerShape, map_crossbar

    cim = load_arch("sram-cim")
    bit_um2 = cim.compute.pim.cell_area_um2 / cim.compute.pim.bits_per_cell * (IMAGINE_NM / cim.technology_nm) ** 2
    macs_8b = 8 * 8  # cell reads per 8-bit MAC: 8 one-bit passes x 8 one-bit cells
    pim = PimArray(rows=IMAGINE_ROWS, columns=IMAGINE_COLUMNS, bits_per_cell=1, cells_per_weight=8, dac_bits=1, adc_bits=8,
                   columns_per_adc=1, dac_energy_pj=0, adc_energy_pj=0, cell_area_um2=bit_um2,
                   cell_energy_pj=2 / (float(IMAGINE_POPS_PER_W[8]) * 1e15) * 1e12 / macs_8b)
    area_mm2 = pim_mac_area_um2(pim) * pim.rows * pim.weights_per_row / 1e6
    out = {"kb_per_mm2": pim.rows * pim.columns / 8 / 1024 / area_mm2}
    for bits in (8, 1):
        m = map_crossbar(LayerShape(f"full-{bits}b", K=pim.rows, M=pim.columns // bits, G=1, V=100, weight_bits=bits,
                                    input_bits=bits), cim, pim=pim, arrays=1)
        macro_pj = m.energy_pj["dac"] + m.energy_pj["adc"] + m.energy_pj["cells"]
        out[f"pops_per_w_{bits}b"] = 2 * m.shape.macs / (macro_pj * 1e-12) / 1e15
        out[f"macs_per_cycle_{bits}b"] = m.shape.macs / m.cycles
    return out


def adc_share_vgg16() -> float:
    """The ADC's share (%) of VGG-16's energy on pim-crossbar (crossbar mapper, every component)."""
    from loopnest.arch import load_arch
    from loopnest.search.crossbar import map_network_crossbar
    from loopnest.workload.zoo import build

    e = map_network_crossbar(build("vgg16"), load_arch("pim-crossbar"), per_layer=False)["totals"]["energy_pj"]
    return 100 * e["adc"] / sum(e.values())


def cases() -> Iterator[Case]:
    s = sram_cim_figures()
    yield Case("sram-cim-macs-per-access", SINANGIL, "4b x 4b MACs at once", 1024, s["macs_per_access"], exact=True)
    yield Case("sram-cim-gops", SINANGIL, "throughput (GOPS, 2 ops per MAC)", 372.4, s["gops"], exact=False,
               tolerance=_printed("372.4"), basis=PRINTED)
    yield Case("sram-cim-tops-per-w", SINANGIL, "macro energy efficiency (TOPS/W)", 351, s["tops_per_w"], exact=False,
               tolerance=_printed("351"), basis=PRINTED)
    m = mythic_figures()
    yield Case("mythic-on-chip-mb", MYTHIC, "weights on chip (MB = 2^20 bytes)", 5, m["on_chip_mb"], exact=True)
    yield Case("mythic-pj-per-mac-full-arrays", MYTHIC, "pJ/MAC, arrays full (DAC + ADC + cells)", 0.5, m["pj_per_mac_full"],
               exact=False, tolerance=_printed("0.5"), basis=PRINTED)
    yield Case("mythic-pj-per-mac-resnet50", MYTHIC,
               f"pJ/MAC, ResNet-50 at 8 bits, all components (utilization {m['resnet50_utilization']:.3f})", 0.5,
               m["pj_per_mac_resnet50"], exact=False, tolerance=_printed("0.5"), basis=PRINTED)
    g = imagine_figures()
    yield Case("imagine-density-kb-per-mm2", IMAGINE,
               "macro density (kB = 1024 B per mm^2): sram-cim's cell-area rule at 22 nm, cells only", float(IMAGINE_KB_PER_MM2),
               g["kb_per_mm2"], exact=False, tolerance=_printed(IMAGINE_KB_PER_MM2), basis=PRINTED)
    yield Case("imagine-pops-per-w-8b", IMAGINE, "macro POPS/W at 8 bits (by construction: the cell reads carry it)",
               float(IMAGINE_POPS_PER_W[8]), g["pops_per_w_8b"], exact=False, tolerance=_printed(IMAGINE_POPS_PER_W[8]),
               basis=PRINTED)
    yield Case("imagine-pops-per-w-1b", IMAGINE, "macro POPS/W at 1 bit (from the 8-bit figure by the counting rules)",
               float(IMAGINE_POPS_PER_W[1]), g["pops_per_w_1b"], exact=False, tolerance=_printed(IMAGINE_POPS_PER_W[1]),
               basis=PRINTED)
    ratio = float(IMAGINE_TOPS_PER_MM2[1]) / float(IMAGINE_TOPS_PER_MM2[8])
    yield Case("imagine-throughput-per-area-1b-over-8b", IMAGINE, "TOPS/mm^2 at 1 bit over 8 bits (154 / 2.6; ours: MACs per cycle)",
               ratio, g["macs_per_cycle_1b"] / g["macs_per_cycle_8b"], exact=False,
               tolerance=_printed(IMAGINE_TOPS_PER_MM2[1]) + _printed(IMAGINE_TOPS_PER_MM2[8]),
               basis="the two printed figures' half units of the last digit, added")
    yield Case("accelergy-pim-a2d-share-vgg", ACCELERGY_PIM,
               "A/D share of VGG's energy (%): ours VGG-16 on the ISAAC-like preset, theirs a Cascade-like design", 66.9,
               adc_share_vgg16(), exact=False, tolerance=(67.9 - 66.9) / 66.9,
               basis="the spread of the two published estimates for the same design (66.9 % Accelergy, 67.9 % Cascade)")
