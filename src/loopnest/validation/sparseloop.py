"""Sparseloop's reference outputs from the public timeloop-accelergy-exercises repository
(workspace/example_designs/example_designs/sparseloop/01.2.*: a 16-element dot product
Z[m] += A[k] * B[k] on one 64-entry, 8-bit register file and one MAC), expressed with the same
inputs in loopnest's terms: A -> inputs, B -> weights, Z -> outputs; the energies per action
from each case's reference ERT (timeloop-mapper.ERT_summary.yaml); A's density
``fixed_structured`` 0.25 -> ``Density.fixed(0.25)``.

Counts and cycles are exact cases. The energies per algorithmic MAC include, as Sparseloop's
do, the register file's leakage (0.001606 pJ per cycle in 01.2.1 and 01.2.2, 0.002083 in 01.2.3,
from each case's ERT), given here as the level's ``leakage_mw`` (docs/model.md, "Static energy");
Sparseloop prints them to two decimals, so each matches within half a unit of the last digit.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.arch.spec import Architecture, Compute, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.validation import Case
from loopnest.workload.density import Density
from loopnest.workload.problem import Problem, Tensor

SOURCE = "Sparseloop tutorial (timeloop-accelergy-exercises, sparseloop/{}), ref_outputs timeloop-mapper.stats.txt"
_ERT_RF = {"read": 1.95808, "write": 1.88608, "update": 1.88608}  # 01.2.1, 01.2.2: regfile, 64 x 8 bits
_ERT_RF_META = {"read": 0.582895, "write": 0.510895, "update": 0.510895}  # 01.2.3: regfile_metadata, data
_ERT_META = {"read": 0.191076, "write": 0.170111, "update": 0.170111}  # 01.2.3: its 4-bit metadata words
_MAC_PJ = 0.315  # intmac, 8-bit multiplier, 16-bit adder
_BASIS = ("Sparseloop prints fJ per MAC to two decimals (half a unit: 0.005 fJ); dynamic energy plus the "
          "Buffer's leakage ({} pJ x {} cycles = {:.2f} fJ per algorithmic MAC)")


def dot_product(density_a: Density | None = None) -> Problem:
    """Z[m] += A[k] * B[k], K = 16, M = 1 (the exercises' problem.yaml)."""
    return Problem("dot-product", "dot", {"K": 16}, (
        Tensor("A", "inputs", ({"K": 1},), 8, density=density_a),
        Tensor("B", "weights", ({"K": 1},), 8),
        Tensor("Z", "outputs", ({},), 8)))


def buffer_arch(energy: dict, read_bw: float, write_bw: float, sparse: dict | None = None,
                compute_sparse: dict | None = None, leak_pj_per_cycle: float = 0.0) -> Architecture:
    """One register file of 64 8-bit words (the exercises' arch.yaml) feeding one MAC; its leakage
    per cycle as ``leakage_mw`` at the architecture's clock (pJ per cycle x MHz / 1e3 = mW)."""
    clock_mhz = 200.0
    return Architecture(name="sparseloop-dot-product", clock_mhz=clock_mhz, levels=(
        Storage(name="Buffer", **{"class": "regfile"}, capacity_words=64, word_bits=8, energy_pj=energy,
                read_bandwidth=read_bw, write_bandwidth=write_bw, sparse=sparse,
                leakage_mw=leak_pj_per_cycle * clock_mhz / 1e3),),
        compute=Compute(name="mac", operand_bits=8, accumulator_bits=16, energy_pj=_MAC_PJ, sparse=compute_sparse))


_MAPPING = Mapping((LevelMapping({"K": 16}, ()),))  # Buffer: for K in [0:16)
_ON_A = [{"target": "weights", "condition_on": ["inputs"]}, {"target": "outputs", "condition_on": ["inputs"]}]

# (case folder, architecture, A's density, expected {metric: value}, fJ per algorithmic MAC, leakage pJ/cycle)
_CASES = [
    ("01.2.1-DUDU-dot-product", buffer_arch(_ERT_RF, 3, 1, leak_pj_per_cycle=0.001606), None,
     {"cycles": 16, "actual computes": 16}, 7954.55, 0.001606),
    # gating of B and Z on A at the Buffer; the MAC is gated with them (Sparseloop infers it, we state it)
    ("01.2.2-SUDU-dot-product", buffer_arch(_ERT_RF, 3, 1, {"gating": _ON_A}, {"gating": ["inputs"]}, 0.001606),
     Density.fixed(0.25),
     {"cycles": 16, "actual computes": 4, "B actual reads": 4, "B gated reads": 12, "Z actual reads": 3,
      "Z gated reads": 12, "Z actual updates": 4, "Z gated updates": 12}, 3366.62, 0.001606),
    # A in coordinate-payload format (4-bit coordinates), skipping of B and Z on A; the MAC skips with them
    ("01.2.3-SCDU-dot-product", buffer_arch(_ERT_RF_META, 4, 3, {
        "formats": {"inputs": "cp"}, "metadata_bits": 4, "metadata_energy_pj": _ERT_META, "skipping": _ON_A},
        {"skipping": ["inputs"]}, 0.002083), Density.fixed(0.25),
     {"cycles": 4, "actual computes": 4, "A actual reads": 4, "A metadata reads": 4, "B algorithmic reads": 16,
      "B actual reads": 4, "B skipped reads": 12, "Z actual reads": 3, "Z skipped updates": 12}, 655.50, 0.002083),
]

_TENSOR = {"A": 0, "B": 1, "Z": 2}
_ACTION = {"reads": 0, "fills": 1, "updates": 2}


def _metric(result, name: str) -> float:
    if name == "cycles":
        return result.cycles
    if name == "actual computes":
        return result.actual_macs
    tensor, kind, action = name.split()
    t, k = _TENSOR[tensor], _ACTION[action]
    sp = result.costs.sparse
    if kind == "algorithmic":
        return float(getattr(result.costs.counts, action)[0, 0, t])
    arr = {"actual": sp.actual, "gated": sp.gated, "skipped": sp.skipped, "metadata": sp.metadata}[kind]
    return float(arr[0, 0, t, k])


def cases() -> Iterator[Case]:
    for folder, arch, density, expected, fj, leak in _CASES:
        result = evaluate(dot_product(density), arch, _MAPPING)
        source = SOURCE.format(folder)
        for name, value in expected.items():
            yield Case(f"sparseloop {folder[:6]}: {name}", source, "cycles" if name == "cycles" else "values",
                       value, _metric(result, name), exact=True)
        cycles = result.cycles
        got = (result.energy_pj + result.leakage_energy_pj) / result.macs * 1000
        share = leak * cycles / result.macs * 1000
        yield Case(f"sparseloop {folder[:6]}: energy per algorithmic MAC", source, "fJ/MAC", fj, got, exact=False,
                   tolerance=0.005 / fj, basis=_BASIS.format(leak, int(cycles), share))
    from loopnest.validation import sparseloop_eyeriss

    yield from sparseloop_eyeriss.cases()
