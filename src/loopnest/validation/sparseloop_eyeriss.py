"""Sparseloop's reference case 04.2.1 (timeloop-accelergy-exercises,
workspace/example_designs/example_designs/sparseloop/04.2.1-eyeriss-like-gating: arch.yaml,
problem.yaml, mapping.yaml, ref_outputs/default_problem/timeloop-mapper.stats.txt and its ERT),
expressed with the same inputs in loopnest's terms, count by count.

The layer: AlexNet CONV3-like, N=4, C=256, M=384, P=Q=13, R=S=3, 16-bit values, densities
``fixed_structured`` inputs 0.275, weights 0.446133, outputs 0.403 (``Density.fixed``). The
architecture: DRAM (64-bit wide, 16-bit words: 4-word blocks; inputs and outputs in two ranks,
uop over rle, 5-bit metadata of zero energy as the ERT gives it), a 51,200-word global buffer
(4-word blocks, 16 words/cycle each way) over 14 x 12 PEs (multicast, spatial reduction, each
child's input window read whole, as Timeloop counts), and per PE the ifmap scratchpad (12 words
of 17 bits: 16 data bits and a zero flag), the weight scratchpad (224 words; weight reads gated
on zero inputs; Sparseloop's timing rule: a gated read keeps its port slot) and the psum
scratchpad (24 words). Energies per action are the ERT's. Sparseloop does the computes whose
weight read was gated neither as actual nor as gated ones and gives the MAC only the actual
computes' cycles: in loopnest terms the MAC skips on zero inputs.

Sparseloop charges leakage for the 156 utilized of the 168 PEs; each scratchpad's leakage per
instance is given here scaled by 156/168, so that ours (every instance) equals it.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.validation import Case
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import conv2d
from loopnest.workload.problem import ROLES

SOURCE = ("Sparseloop 04.2.1-eyeriss-like-gating (timeloop-accelergy-exercises, sparseloop/04.2.1-eyeriss-like-gating), "
          "ref_outputs/default_problem/timeloop-mapper.stats.txt")
CLOCK_MHZ = 1000.0
USED, PES = 156, 168  # utilized and total PE instances (stats: "Utilized instances (max) : 156")
_D = {"inputs": 0.275, "weights": 0.446133, "outputs": 0.403}
_ZERO = {"read": 0.0, "write": 0.0, "update": 0.0}
_LEAK = {"glb": 0.004781, "ifmap_spad": 0.000735, "weights_spad": 0.003961, "psum_spad": 0.00102}  # ERT leak, pJ/cycle


def _mw(pj_per_cycle: float, share: float = 1.0) -> float:
    return pj_per_cycle * share * CLOCK_MHZ / 1e3


def layer():
    p = conv2d("sparseloop-04.2.1", N=4, C=256, M=384, H=15, W=15, R=3, S=3, bits=16)
    return with_densities(p, {r: Density.fixed(d) for r, d in _D.items()})


def arch() -> Architecture:
    spad = USED / PES
    return Architecture(name="sparseloop-eyeriss-like-gating", clock_mhz=CLOCK_MHZ, levels=(
        Storage(name="DRAM", **{"class": "dram"}, word_bits=16, block_words=4,
                energy_pj={"read": 512.0, "write": 512.0, "update": 512.0},
                sparse={"formats": {"inputs": ["uop", "rle"], "outputs": ["uop", "rle"]}, "metadata_bits": 5,
                        "metadata_energy_pj": _ZERO}),
        Storage(name="shared_glb", capacity_words=51200, word_bits=16, block_words=4, read_bandwidth=16,
                write_bandwidth=16, energy_pj={"read": 28.426775, "write": 23.503475, "update": 23.503475},
                keeps=("inputs", "outputs"), leakage_mw=_mw(_LEAK["glb"]),
                sparse={"decompression_energy_pj": 0.059062, "compression_energy_pj": 0.059062},
                fanout=Fanout(x=14, y=12, reduction=True, window_union=False)),
        Storage(name="ifmap_spad", **{"class": "regfile"}, capacity_words=12, word_bits=17, read_bandwidth=2,
                write_bandwidth=2, energy_pj={"read": 0.339229, "write": 0.297769, "update": 0.297769},
                keeps=("inputs",), leakage_mw=_mw(_LEAK["ifmap_spad"], spad)),
        Storage(name="weights_spad", **{"class": "regfile"}, capacity_words=224, word_bits=16, read_bandwidth=2,
                write_bandwidth=2, energy_pj={"read": 3.49714, "write": 3.35314, "update": 3.35314},
                keeps=("weights",), leakage_mw=_mw(_LEAK["weights_spad"], spad),
                sparse={"gating": [{"target": "weights", "condition_on": ["inputs"]}], "gated_keep_slot": True}),
        Storage(name="psum_spad", **{"class": "regfile"}, capacity_words=24, word_bits=16,
                energy_pj={"read": 0.538625, "write": 0.47162, "update": 0.47162}, keeps=("outputs",),
                leakage_mw=_mw(_LEAK["psum_spad"], spad)),
    ), compute=Compute(name="mac", operand_bits=16, energy_pj=0.315, sparse={"skipping": ["inputs"]}))


def only_bandwidth(a: Architecture, level: str) -> Architecture:
    """``a`` with every read and write bandwidth but ``level``'s removed: its cycles are then the
    larger of the MAC cycles and that level's bandwidth bound, Sparseloop's per-level cycles."""
    free = {"read_bandwidth": None, "write_bandwidth": None}
    return a.model_copy(update={"levels": tuple(lv if lv.name == level else lv.model_copy(update=free) for lv in a.levels)})


MAPPING = Mapping((  # ref_outputs timeloop-mapper.map.txt
    LevelMapping({"M": 6, "C": 64}, ("M", "C")),
    LevelMapping({"N": 4, "P": 13}, ("N", "P"), spatial_x={"Q": 13}, spatial_y={"M": 4, "S": 3}),
    LevelMapping({}, ()),
    LevelMapping({"R": 3, "C": 4}, ("R", "C")),
    LevelMapping({"M": 16}, ("M",)),
))

# per (level, tensor, action): Sparseloop's per-instance algorithmic, actual, gated, skipped counts
_COUNTS = {
    ("psum_spad", "outputs", "reads"): (3828864, 3828864, 0, 0),
    ("psum_spad", "outputs", "fills"): (314496, 314496, 0, 0),
    ("psum_spad", "outputs", "updates"): (3833856, 3833856, 0, 0),
    ("weights_spad", "weights", "reads"): (3833856, 1054311, 2779545, 0),
    ("weights_spad", "weights", "fills"): (73728, 73728, 0, 0),
    ("ifmap_spad", "inputs", "reads"): (3833856, 3833856, 0, 0),
    ("ifmap_spad", "inputs", "fills"): (92160, 92160, 0, 0),
    ("shared_glb", "inputs", "reads"): (3594240, 3594240, 0, 0),
    ("shared_glb", "inputs", "fills"): (1382400, 1382400, 0, 0),
    ("shared_glb", "outputs", "reads"): (16353792, 16353792, 0, 0),
    ("shared_glb", "outputs", "updates"): (16613376, 16613376, 0, 0),
    ("DRAM", "weights", "reads"): (884736, 884736, 0, 0),
    ("DRAM", "inputs", "reads"): (1382400, 380160, 0, 0),
    ("DRAM", "outputs", "updates"): (259584, 104613, 0, 0),
}
# metadata (format) words at DRAM: rank 1 (uop offsets), rank 0 (rle run lengths)
_META = {("DRAM", "inputs", "reads"): (390, 380161), ("DRAM", "outputs", "updates"): (7, 104613)}
# dynamic energy per level and tensor, pJ ("Energy (total)")
_ENERGY = {("mac", None): 51808813.24, ("psum_spad", "outputs"): 626927752.19, ("weights_spad", "weights"): 613749782.33,
           ("ifmap_spad", "inputs"): 207167614.38, ("shared_glb", "inputs"): 33747611.21,
           ("shared_glb", "outputs"): 213845586.92, ("DRAM", "weights"): 113246208.00, ("DRAM", "inputs"): 48660480.00,
           ("DRAM", "outputs"): 13390848.00}
_CYCLES, _MAC_CYCLES, _ALG, _ACTUAL, _FJ = 1916929, 1054311, 598081536, 164472423, 3217.39
_LEVEL_CYCLES = {"shared_glb": 1246752, "ifmap_spad": 1916929, "weights_spad": 1916929}  # each level's "Cycles"
_ACTION = {"reads": 0, "fills": 1, "updates": 2}
_ROUND = ("Sparseloop rounds each expected count up to a whole number per instance (ceil of a floating-point "
          "product: 0.275 x 3,833,856 = 1,054,310.4 prints 1,054,311); one unit per instance")


def _fillers(d: float, run_bits: int = 5) -> float:
    """Our RLE's explicit zeros that end runs longer than 2**run_bits - 1, per nonzero:
    q / (1 - q), q = (1 - d)**(2**run_bits) (docs/sparsity.md); Sparseloop's RLE has none."""
    q = (1.0 - d) ** (2 ** run_bits)
    return q / (1.0 - q)


def _instances(level: str) -> int:
    return USED if level.endswith("spad") else 1


def cases() -> Iterator[Case]:
    r = evaluate(layer(), arch(), MAPPING)
    c, sp = r.costs, r.costs.sparse
    names = [lv.name for lv in r.arch.levels]
    name = "sparseloop 04.2.1: {}"
    yield Case(name.format("cycles"), SOURCE, "cycles", _CYCLES, r.cycles, exact=False, tolerance=1 / _CYCLES,
               basis=_ROUND + " (the ifmap scratchpad's 3,833,856 reads / 2 per cycle = 1,916,928)")
    mac_cycles = float(c.counts.compute_cycles[0]) * sp.plan.cycle_fraction
    yield Case(name.format("mac cycles (actual computes per PE)"), SOURCE, "cycles", _MAC_CYCLES, mac_cycles,
               exact=False, tolerance=1 / _MAC_CYCLES, basis=_ROUND)
    for level, expect in _LEVEL_CYCLES.items():  # Sparseloop's per-level cycles: max(MAC cycles, that level's bandwidth)
        alone = evaluate(layer(), only_bandwidth(arch(), level), MAPPING).cycles
        if float(expect) == alone:
            yield Case(name.format(f"{level} cycles (its bandwidth alone)"), SOURCE, "cycles", expect, alone, exact=True)
        else:
            yield Case(name.format(f"{level} cycles (its bandwidth alone)"), SOURCE, "cycles", expect, alone, exact=False,
                       tolerance=1 / expect, basis=_ROUND)
    yield Case(name.format("algorithmic computes"), SOURCE, "values", _ALG, r.macs, exact=True)
    yield Case(name.format("actual computes"), SOURCE, "values", _ACTUAL, r.actual_macs, exact=False,
               tolerance=1 / _ACTUAL, basis=_ROUND)
    yield Case(name.format("computes not performed (Sparseloop: neither gated nor skipped; ours: skipped)"), SOURCE,
               "values", _ALG - _ACTUAL, sp.gated_macs + sp.skipped_macs, exact=False, tolerance=1 / (_ALG - _ACTUAL),
               basis=_ROUND)
    for (level, role, action), expect in _COUNTS.items():
        l, t, k = names.index(level), ROLES.index(role), _ACTION[action]
        n = _instances(level)
        alg = float((c.counts.reads, c.counts.fills, c.counts.updates)[k][0, l, t])
        ours = (alg, float(sp.actual[0, l, t, k]), float(sp.gated[0, l, t, k]), float(sp.skipped[0, l, t, k]))
        for kind, e, g in zip(("algorithmic", "actual", "gated", "skipped"), expect, ours):
            if kind in ("gated", "skipped") and e == 0 and g == 0 and level != "weights_spad":
                continue  # zero gated and skipped counts are shown where gating is (weights_spad)
            label = name.format(f"{level} {role} {kind} {action}")
            fill = _fillers(_D[role]) if level == "DRAM" and role != "weights" and kind == "actual" else 0.0
            if e * n == g:
                yield Case(label, SOURCE, "values", e * n, g, exact=True)
            else:
                tol = (n + fill * e * n) / max(e * n, 1)
                basis = _ROUND + (f"; and our RLE's filler entries, {fill:.2e} per nonzero at 5-bit runs" if fill else "")
                yield Case(label, SOURCE, "values", e * n, g, exact=False, tolerance=tol, basis=basis)
    for (level, role, action), (uop, rle) in _META.items():
        l, t, k = names.index(level), ROLES.index(role), _ACTION[action]
        outer = float(sp.outer_metadata[0, l, t, k])
        inner = float(sp.metadata[0, l, t, k]) - outer
        fill = _fillers(_D[role])
        yield Case(name.format(f"{level} {role} rank 1 (uop) offsets {action}"), SOURCE, "words", uop, outer, exact=True)
        yield Case(name.format(f"{level} {role} rank 0 (rle) run lengths {action}"), SOURCE, "words", rle, inner,
                   exact=False, tolerance=(1 + fill * rle) / rle,
                   basis=_ROUND + f"; and our RLE's filler entries, {fill:.2e} per nonzero at 5-bit runs")
    for (level, role), expect in _ENERGY.items():
        if level == "mac":
            got = c.compute_energy_pj
            tol, basis = 1 * 0.315 / expect, _ROUND + " (one compute, 0.315 pJ)"
        else:
            l, t = names.index(level), ROLES.index(role)
            got = float(c.storage_energy_pj[0, l, t])
            accesses = sum(float(x[0, l, t]) for x in (c.counts.reads, c.counts.fills, c.counts.updates))
            fill = _fillers(_D[role]) if level == "DRAM" and role != "weights" else 0.0
            # ERT energies printed to 6 decimals (half a unit per access), one rounded access per instance
            block = r.arch.levels[l].block_words
            per_word = max(r.arch.levels[l].energy_pj.values()) / block  # pJ of one rounded access
            tol = (accesses * 5e-7 + (_instances(level) + block - 1) * per_word + fill * expect) / expect
            basis = ("the ERT's energies per action are printed to 6 decimals (5e-7 pJ per access); " + _ROUND
                     + (f"; and our RLE's filler entries, {fill:.2e} per nonzero" if fill else "")
                     + (f"; Sparseloop charges whole {block}-word blocks (DRAM outputs: ceil(104,613 / 4) blocks = "
                        f"104,616 words' energy), we charge words / block_words: up to {block - 1} words" if block > 1 else ""))
        yield Case(name.format(f"{level} {role or 'compute'} energy"), SOURCE, "pJ", expect, got, exact=False,
                   tolerance=tol, basis=basis)
    got = (r.energy_pj + r.leakage_energy_pj) / r.macs * 1000
    yield Case(name.format("energy per algorithmic MAC (dynamic + leakage)"), SOURCE, "fJ/MAC", _FJ, got, exact=False,
               tolerance=0.005 / _FJ, basis="Sparseloop prints fJ per MAC to two decimals (half a unit: 0.005 fJ)")
