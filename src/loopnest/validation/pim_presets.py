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
"""

from __future__ import annotations

from typing import Iterator

from loopnest.validation import Case

SINANGIL = "Sinangil et al., JSSC 2021 (7 nm SRAM CIM macro), title and abstract"
MYTHIC = "Keutzer et al., co-design talk, slide 'Analog Computing: Mythic' (40 nm flash, 8-bit, 5 MB, 0.5 pJ/MAC)"
PRINTED = "half a unit in the last printed digit of the published figure"


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
