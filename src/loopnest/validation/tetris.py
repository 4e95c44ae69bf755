"""TETRIS (Gao et al., ASPLOS 2017: 16 NN engines in the logic die of a 3D memory stack) against
its 2D baseline, as the authors reproduce their paper's Figure 8 in their public scheduler's test
suite (stanford-mast/nn_dataflow, nn_dataflow/tests/dataflow_test/test_nn_dataflow.py,
``test_eyeriss_asplos17``): AlexNet at batch 16 on "L-1" (one 16 x 16-PE engine, 576 kB buffer,
2D DRAM at 240 pJ per 16-bit access; preset ``tetris-2d-baseline``) and on "T-16" (4 x 4 vault
engines of 14 x 14 PEs, 133 kB buffers, 3D DRAM at 80 pJ; preset ``tetris-like``). That test
checks two figures:

- "Performance of T-16 is proportional to PE resource (20% margin)": T-16's time below 1.2 x
  L-1's time x 256 / 3,136. Expected: the PE ratio 3,136 / 256 = 12.25; the source accepts down
  to 12.25 / 1.2, a relative 1/6 below, which is our tolerance (a two-sided reading of a one-sided
  check). Ours: the ratio of the network cycles, each layer's Eyexam storage-capacity bound under
  row stationary (``analysis.eyexam.layer_bound_cycles``; with unlimited DRAM bandwidth, as there,
  the mapper's latency optimum, found without a search).
- "Energy reduced by > 30%" (the check allows 0.72 x L-1's energy): compared by
  ``benchmarks/tetris_energy.py``, not here (it needs the energy-optimal mapping of every layer on
  both designs, minutes of search per run; measured 0.619, docs/arch.md).

Not checked: the abstract's 4.1x performance and 1.5x energy "over NN accelerators with conventional,
low-power DRAM memory systems". That baseline's configuration and the networks averaged are in the
paper's body, which was not reachable; it does not fit T-16 over L-1 on AlexNet at batch 16, where the
source's own check above wants at least 10.2x (docs/arch.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case

SOURCE = ("TETRIS (Gao et al., ASPLOS 2017), Figure 8 as reproduced by the authors' nn_dataflow "
          "(test_eyeriss_asplos17): T-16 (tetris-like) vs L-1 (tetris-2d-baseline), AlexNet batch 16")
BASIS = ("the source's check accepts T-16's time up to 1.2x the PE-proportional time (its '20% margin'): "
         "a speed-up down to 12.25 / 1.2, 1/6 below the PE ratio")
MODEL, BATCH = "alexnet", 16


def network_cycles(preset: str) -> float:
    """AlexNet batch-16 cycles on ``preset``, row stationary: the sum of the layers' capacity bounds."""
    from loopnest.analysis.eyexam import layer_bound_cycles
    from loopnest.arch import load_arch
    from loopnest.workload import load_network

    return sum(layer_bound_cycles(load_network(MODEL, batch=BATCH).layers, load_arch(preset), "rs"))


def cases() -> Iterator[Case]:
    from loopnest.arch import load_arch

    pe_ratio = load_arch("tetris-like").pes / load_arch("tetris-2d-baseline").pes
    yield Case("AlexNet batch 16: T-16 over L-1", SOURCE,
               f"speed-up (L-1 cycles / T-16 cycles); expected the PE ratio {pe_ratio:g}",
               pe_ratio, network_cycles("tetris-2d-baseline") / network_cycles("tetris-like"),
               exact=False, tolerance=1 / 6, basis=BASIS)
