"""Synetgy's published figures for its network, DiracDeltaNet (Yang et al., "Synetgy: algorithm-hardware
co-design for ConvNet accelerators on embedded FPGAs", FPGA 2019, arXiv 1811.08634), against the zoo's
``diracdeltanet`` (built from the authors' public reference code at its defaults).

- The abstract: DiracDeltaNet has "42x fewer parameters and 48x fewer OPs than VGG16". Ours: the
  zoo's weights and MACs of ``vgg16`` over those of ``diracdeltanet`` (biases and batch-norm
  parameters not counted on either side). Printed to two digits: half a unit, 0.5 / 42 and 0.5 / 48.
- The accelerator's throughput on the Ultra96 (Zynq ZU3EG, 250 MHz, 4-bit weights and activations):
  47.09 GOP/s at 66.3 frames/s (the paper's Tables 5-7, as transcribed in a public literature table;
  the 66.3 fps is also in Keutzer et al., co-design talk), so 47.09 / 66.3 = 0.7103 GOP per
  frame. Ours: 2 operations per MAC of the zoo's network. Tolerance: half a unit in the last digit of
  each printed figure, added (0.005 / 47.09 + 0.05 / 66.3).

These check the workload, not a design: no Synetgy-like preset ships, because the accelerator's
compute-unit sizes (its parallelism) were not found (docs/arch.md lists what was found and the
queries tried). All three cases say the same thing: the reference code's network is 12-24 % smaller
than the one the paper counts (docs/workload.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

SOURCE_ABSTRACT = "Synetgy (Yang et al., FPGA 2019, arXiv 1811.08634), abstract: DiracDeltaNet against VGG16"
SOURCE_TABLES = ("Synetgy (Yang et al., FPGA 2019, arXiv 1811.08634), Tables 5-7 as transcribed in a public "
                 "literature table: 47.09 GOP/s at 66.3 fps on the Ultra96 (ZU3EG); 66.3 fps also in Keutzer et al., co-design talk")
GOPS, FPS = "47.09", "66.3"
BASIS_RATIO = "printed to two digits: half a unit in the last digit"
BASIS_TABLES = "half a unit in the last digit of each printed figure, added (0.005 / 47.09 + 0.05 / 66.3)"


def totals(model: str) -> tuple[int, int]:
    """(MACs, weights) of the zoo's ``model`` at batch 1."""
    from loopnest.workload import load_network
    from loopnest.workload.stats import network_stats

    t = network_stats(load_network(model, batch=1)).to_dict()["totals"]
    return t["macs"], t["weights"]


def cases() -> Iterator[Case]:
    vgg_macs, vgg_weights = totals("vgg16")
    macs, weights = totals("diracdeltanet")
    yield Case("DiracDeltaNet: VGG16's parameters over DiracDeltaNet's", SOURCE_ABSTRACT,
               "parameter ratio (zoo weights of vgg16 / diracdeltanet)", 42.0, vgg_weights / weights,
               exact=False, tolerance=printed_tolerance("42"), basis=BASIS_RATIO)
    yield Case("DiracDeltaNet: VGG16's operations over DiracDeltaNet's", SOURCE_ABSTRACT,
               "operation ratio (zoo MACs of vgg16 / diracdeltanet)", 48.0, vgg_macs / macs,
               exact=False, tolerance=printed_tolerance("48"), basis=BASIS_RATIO)
    yield Case("DiracDeltaNet on the Ultra96: operations per frame", SOURCE_TABLES,
               "GOP per frame (47.09 GOP/s / 66.3 fps; ours 2 x MACs)", float(GOPS) / float(FPS), 2 * macs / 1e9,
               exact=False, tolerance=printed_tolerance(GOPS) + printed_tolerance(FPS), basis=BASIS_TABLES)
