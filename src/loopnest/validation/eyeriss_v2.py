"""Eyeriss v2's speed-up over Eyeriss v1 as the PE count grows (seed 001, Sze's 2020 evaluation
talk, slide 21, after Y.-H. Chen et al., "Eyeriss v2", IEEE JETCAS 2019) against the PE-scaling
study of docs/dse.md (``examples/sweep_pe_scaling.yaml``).

The seed's table (speed-up over Eyeriss v1 at 256 / 1024 / 16384 PEs): AlexNet 17.9x, 71.5x,
1086.7x; GoogLeNet 10.4x, 37.8x, 448.8x; MobileNet 15.7x, 57.9x, 873.0x. Its absolute values fold
in Eyeriss v2's sparse PEs (compressed weights and activations) against a dense v1, which loopnest
does not reproduce here; what is compared is how the speed-up scales with the PE count, each column
over the 256-PE one (AlexNet 71.5 / 17.9 = 3.99x), against our throughput ratio (1 / network cycles)
of the study's design. That ratio is Eyeriss v2's own scaling only if Eyeriss v1's throughput does
not grow with its PE count: an assumption of the study, not a statement of the seed. The design:
the array of ``eyeriss256-rs`` as a 16 x 16, 32 x 32 and 128 x 128 array, its global buffer
growing with it (512 B per PE), batch 1, unlimited bandwidths, under Eyeriss v2's own dataflow,
row stationary plus (the ``rs+`` preset of ``mapping.dataflows``: groups, images, channels,
output rows and filter rows on either axis of the array).

Our cycles per layer are Eyexam's storage-capacity bound (``analysis.eyexam.capacity_bound_cycles``:
MACs over the most active PEs of any mapping whose tiles fit): with no bandwidth limit it is the
mapper's latency optimum, found without a search (under ``rs``, the sweep's mapper gave the same
cycles, to the cycle, on eight of the nine points docs/dse.md reports; on GoogLeNet at 16,384 PEs
its heuristic mappings, not proven optimal, take 120,275 cycles against this bound's 120,163).
Tolerance: the ratio of two figures printed to one decimal, each known to half a unit in its last
digit, so the sum of their relative halves.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

SOURCE = "Eyeriss v2 over Eyeriss v1 (Chen et al., JETCAS 2019), speed-up vs PE count; Sze, 2020 evaluation talk, slide 21"
BASIS = ("a ratio of two speed-ups printed to 0.1x: the sum of their half-units in the last digit "
         "(AlexNet 71.5 / 17.9: 0.05 / 71.5 + 0.05 / 17.9 = 0.35 %)")
SIDES = (16, 32, 128)  # 256, 1024, 16384 PEs
DATAFLOW = "rs+"  # Eyeriss v2's row stationary plus (JETCAS 2019)
SPEEDUP = {  # network -> the seed's speed-up over Eyeriss v1 at each PE count, as printed
    "alexnet": ("17.9", "71.5", "1086.7"),
    "googlenet": ("10.4", "37.8", "448.8"),
    "mobilenet_v1": ("15.7", "57.9", "873.0"),
}


def scaled_array(side: int):
    """``eyeriss256-rs`` as a side x side array with 512 B (256 16-bit words) of buffer per PE:
    the rule of ``examples/sweep_pe_scaling.yaml``."""
    from loopnest.arch import load_arch

    base = load_arch("eyeriss256-rs")
    glb = base.levels[1]
    glb = glb.model_copy(update={"capacity_words": side * side * 256,
                                 "fanout": glb.fanout.model_copy(update={"x": side, "y": side})})
    return base.model_copy(update={"levels": (base.levels[0], glb, *base.levels[2:])})


def network_cycles(model: str, side: int, dataflow: str = DATAFLOW) -> float:
    """Batch-1 cycles of ``model`` on ``scaled_array(side)`` under ``dataflow``: the sum of each
    layer's storage-capacity bound."""
    from loopnest.analysis.eyexam import layer_bound_cycles
    from loopnest.workload import load_network

    return sum(layer_bound_cycles(load_network(model, batch=1).layers, scaled_array(side), dataflow))


def cases() -> Iterator[Case]:
    for model, printed in SPEEDUP.items():
        cycles = [network_cycles(model, side) for side in SIDES]
        for i in (1, 2):
            pes = SIDES[i] ** 2
            yield Case(f"{model} {pes} / 256 PEs: speed-up scaling", SOURCE,
                       f"speed-up at {pes} PEs over 256 ({printed[i]}x / {printed[0]}x); ours: throughput ratio, {DATAFLOW}",
                       float(printed[i]) / float(printed[0]), cycles[0] / cycles[i], exact=False,
                       tolerance=printed_tolerance(printed[i]) + printed_tolerance(printed[0]), basis=BASIS)
