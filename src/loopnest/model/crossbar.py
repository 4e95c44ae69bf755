"""A layer on analog processing-in-memory crossbars: how its weights tile onto the arrays, and
what the converters, cells, digital adders and buffers then cost (Yang and Sze, IEDM 2019:
weight-stationary arrays, bit-serial inputs, array utilization).

Shapes come from the layer's projections, not from names: the weights' dimensions that do not
index the outputs are reduced along a crossbar's rows (R*S*C), those that index the weights and
the outputs but not the inputs are its columns (M), those that index all three are independent
blocks (the groups G), and the dimensions that do not index the weights (N, P, Q) make the input
vectors: V = N*P*Q of them, each of K = R*S*C values per group. A weight of ``weight_bits`` spans
cpw = ceil(weight_bits / bits_per_cell) adjacent cells, so an array of ``rows`` x ``columns``
cells holds rows x floor(columns / cpw) weights.

Options the search chooses among (every combination, vectorized; the best by the objective):

* ``rows_per_array`` t: rows used per array (a power of two up to ``rows``, K, or the most rows
  whose column sums fit b ADC bits, for every b): K rows of a group split over ceil(K / t) row
  tiles. Fewer rows need fewer ADC bits (rule 7) and cost more conversions.
* ``groups_per_array`` k: k groups packed block-diagonally into one array (only where k*K rows
  and k*M*cpw columns fit); fewer arrays, but the off-diagonal cells of the driven rows and
  sensed columns are read too.
* ``replication`` r: where arrays are spare, r copies of the weights serve r input vectors at
  once (cycles / r, the same energy).

Counting rules, per layer (n_r row tiles per group block, n_c = ceil(k*M / floor(columns/cpw))
column tiles, tiles = ceil(G/k) * n_r * n_c, passes = ceil(input_bits / dac_bits)):

1. DAC conversions = V * passes * G*K * n_c: every input value of every vector enters through a
   DAC once per pass for each column tile it feeds.
2. ADC conversions = V * passes * n_r * G*M*cpw: every used column is converted once per pass.
3. Cell reads = V * passes * (cells under driven rows and sensed columns): G*K*M*cpw for k = 1,
   (floor(G/k)*k^2 + (G mod k)^2) * K*M*cpw when k groups share an array.
4. Digital additions = V * n_r * G*M * (passes*cpw - 1) shift-and-adds (the conversions of one
   output in one row tile merged into one partial sum) + V * G*M * (n_r - 1) additions of the
   row tiles' partial sums, each on an adder of ``accumulator_bits`` (45 nm law [H14], scaled to
   the node).
5. Buffers: each on-chip level that keeps inputs is read once per DAC'd input word
   (V * G*K * n_c words) and each that keeps outputs is written once per output (V * G*M words).
   Weights stay in the cells (programmed once per network, not costed); DRAM is not costed.
6. Cycles = rounds * ceil(V / r) * passes: one pass per cycle (the clock is set so that a
   shared ADC converts its columns within one pass, as in ISAAC); rounds = ceil(tiles / arrays)
   when the tiles outnumber the arrays (the arrays are reprogrammed between rounds).
7. ADC resolution: a column's sum over t rows of dac_bits x bits_per_cell products needs
   ceil(log2(t * (2^dac_bits - 1) * (2^bits_per_cell - 1) + 1)) bits. ``adc_energy`` "fixed":
   every conversion costs ``adc_energy_pj`` at ``adc_bits`` and the lowest bits beyond them are
   lost (``exact_adc`` keeps only the options that lose none); "sized": every conversion is made
   at the width its sum needs, at ``adc_energy_pj`` x 2^(needed - adc_bits) (energy doubling per
   bit at a fixed Walden figure of merit, E = FoM x 2^bits), and no bit is lost.

Utilization: useful weight cells / (rows * columns of the arrays the tiles occupy); chip
utilization also counts replication over all the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, log2, prod

import numpy as np
from pydantic import ValidationError

from loopnest.arch.laws import INT_ADD_PJ, energy_scale, power_law
from loopnest.arch.pim import PimArray
from loopnest.arch.spec import Architecture
from loopnest.mapping.crossbar import CrossbarChoice
from loopnest.workload.problem import Problem

OBJECTIVES = ("energy", "cycles", "edp")
ADC_ENERGY = ("fixed", "sized")
COMPONENTS = ("dac", "adc", "cells", "digital", "buffers")
MOVEMENT = ("dac", "adc", "digital", "buffers")  # everything but the cells: activations in and out


class CrossbarError(ValueError):
    """A layer or crossbar that cannot be mapped: no static weights, an array too small."""


@dataclass(frozen=True)
class LayerShape:
    """A layer as crossbar matrices: G blocks of K rows x M columns, V input vectors."""

    name: str
    K: int
    M: int
    G: int
    V: int
    weight_bits: int
    input_bits: int

    @property
    def macs(self) -> int:
        return self.V * self.G * self.K * self.M


def layer_shape(p: Problem, weight_bits: int | None = None, input_bits: int | None = None) -> LayerShape:
    """The crossbar shape of ``p`` from its tensors' projections (module docstring)."""
    w, i, o = p.tensor("weights"), p.tensor("inputs"), p.output
    if not w.static:
        raise CrossbarError(f"layer {p.name!r}: its second operand is not a trained weight; a crossbar holds static weights only")
    wd, idims, od = w.dims(), i.dims(), o.dims()
    size = lambda ds: prod(p.dims[d] for d in ds)  # noqa: E731
    return LayerShape(p.name, K=size(wd - od), M=size((wd & od) - idims), G=size(wd & od & idims),
                      V=size(set(p.dims) - wd), weight_bits=weight_bits or w.mac_bits, input_bits=input_bits or i.mac_bits)


def _candidates(limit: int, extra: int) -> np.ndarray:
    """Powers of two up to ``limit`` and ``extra`` (if within it)."""
    vals = {1 << e for e in range(int(log2(limit)) + 1)} | ({extra} if 1 <= extra <= limit else set())
    return np.array(sorted(vals), dtype=np.int64)


def _largest_sum(pim: PimArray) -> int:
    """The largest product one row adds to a column sum, in units of the least significant bit."""
    return (2 ** pim.dac_bits - 1) * (2 ** pim.bits_per_cell - 1)


def adc_bits_needed(rows_used, pim: PimArray):
    """Bits a column sum over ``rows_used`` rows needs (module docstring, rule 7); elementwise."""
    return np.ceil(np.log2(np.asarray(rows_used) * _largest_sum(pim) + 1)).astype(np.int64)


@dataclass(frozen=True)
class CrossbarMapping:
    """The chosen option of one layer and everything it costs; :meth:`to_dict` explains it."""

    shape: LayerShape
    rows: int
    columns: int
    arrays: int
    cells_per_weight: int
    rows_per_array: int
    groups_per_array: int
    replication: int
    row_tiles: int
    column_tiles: int
    tiles: int
    rounds: int
    arrays_used: int
    passes: int
    counts: dict
    energy_pj: dict
    cycles: int
    utilization: float
    row_utilization: float
    column_utilization: float
    chip_utilization: float
    adc_bits_needed: int
    adc_lost_bits: int
    options_searched: int

    @property
    def total_pj(self) -> float:
        return sum(self.energy_pj.values())

    def to_dict(self) -> dict:
        s = self.shape
        return {"layer": s.name, "matrix": {"K_rows": s.K, "M_columns": s.M, "G_blocks": s.G, "V_vectors": s.V,
                                            "weight_bits": s.weight_bits, "input_bits": s.input_bits},
                "macs": s.macs, "array": {"rows": self.rows, "columns": self.columns, "arrays": self.arrays,
                                          "cells_per_weight": self.cells_per_weight},
                "choice": {"rows_per_array": self.rows_per_array, "groups_per_array": self.groups_per_array,
                           "replication": self.replication, "options_searched": self.options_searched},
                "row_tiles": self.row_tiles, "column_tiles": self.column_tiles, "tiles": self.tiles, "rounds": self.rounds,
                "arrays_used": self.arrays_used, "passes_per_vector": self.passes, "counts": dict(self.counts),
                "energy_pj": dict(self.energy_pj), "total_pj": self.total_pj, "pj_per_mac": self.total_pj / s.macs,
                "cycles": self.cycles, "utilization": self.utilization, "row_utilization": self.row_utilization,
                "column_utilization": self.column_utilization, "chip_utilization": self.chip_utilization,
                "adc_bits_needed": self.adc_bits_needed, "adc_lost_bits": self.adc_lost_bits}


def _level_word_pj(arch: Architecture, role: str, action: str) -> float:
    """pJ per word of ``role`` over every on-chip level that keeps it (rule 5)."""
    return sum(lv.energy_of(role, action) for lv in arch.levels if lv.cls != "dram" and role in lv.keeps)


def array_count(arch: Architecture) -> int:
    """Arrays of the architecture: its MAC positions over the weights one array holds."""
    pim = arch.compute.pim
    return max(1, arch.pes // (pim.rows * pim.weights_per_row))


def map_crossbar(p: Problem | LayerShape, arch: Architecture, pim: PimArray | None = None, arrays: int | None = None,
                 objective: str = "energy", exact_adc: bool = False, adc_energy: str = "fixed",
                 choice: CrossbarChoice | None = None) -> CrossbarMapping:
    """The best crossbar mapping of a layer on ``arch``'s arrays (``pim`` and ``arrays``
    override the architecture's own, for array-size sweeps); see the module docstring. With
    ``choice`` the search is that one option (``loopnest model`` with a crossbar mapping file)."""
    if objective not in OBJECTIVES:
        raise CrossbarError(f"objective: {objective!r} is not one of {', '.join(OBJECTIVES)}")
    if adc_energy not in ADC_ENERGY:
        raise CrossbarError(f"adc_energy: {adc_energy!r} is not one of {', '.join(ADC_ENERGY)}")
    pim = pim or arch.compute.pim
    if pim is None:
        raise CrossbarError(f"architecture {arch.name!r}: compute has no pim block; crossbar mapping needs an analog PIM array")
    if arrays is not None and (isinstance(arrays, bool) or not isinstance(arrays, int) or arrays < 1):
        raise CrossbarError(f"arrays: an integer >= 1, got {arrays!r}")
    arrays = arrays or array_count(arch)
    s = p if isinstance(p, LayerShape) else layer_shape(p)
    cpw = ceil(s.weight_bits / pim.bits_per_cell)
    if pim.columns < cpw:
        raise CrossbarError(f"pim.columns: {pim.columns} columns cannot hold one {s.weight_bits}-bit weight of {cpw} cells "
                            f"of {pim.bits_per_cell} bits; need columns >= {cpw}")
    wpr = pim.columns // cpw
    passes = ceil(s.input_bits / pim.dac_bits)
    K, M, G, V = s.K, s.M, s.G, s.V

    # the option grid (module docstring): rows per array x groups per array x replication
    per_width = [(2 ** b - 1) // _largest_sum(pim) for b in range(1, int(adc_bits_needed(pim.rows, pim)) + 1)]
    t = np.union1d(_candidates(pim.rows, min(K, pim.rows)), [n for n in per_width if 1 <= n <= pim.rows])
    kmax = max(1, min(G, pim.rows // K if K <= pim.rows else 1, wpr // M if M <= wpr else 1))
    k = _candidates(kmax, kmax)
    r = _candidates(arrays, arrays)
    if choice is not None:
        _check_choice(choice, s, pim, arrays, kmax)
        t, k, r = (np.array([v], dtype=np.int64) for v in (choice.rows_per_array, choice.groups_per_array, choice.replication))
    T, Kk, R = (a.ravel() for a in np.meshgrid(t, k, r, indexing="ij"))
    block_rows = np.where(Kk > 1, Kk * K, K)
    n_r = -(-block_rows // T)
    n_c = -(-(Kk * M) // wpr)
    ok = (Kk == 1) | ((n_r == 1) & (n_c == 1))
    blocks = -(-G // Kk)
    tiles = blocks * n_r * n_c
    rounds = np.where(tiles > arrays, -(-tiles // arrays), 1)
    ok &= (R == 1) | (tiles * R <= arrays)
    rows_used = np.minimum(T, block_rows)
    need = adc_bits_needed(rows_used, pim)
    if choice is not None and not ok.any():
        raise CrossbarError(f"crossbar mapping: replication {choice.replication} needs {int(tiles[0] * R[0])} arrays "
                            f"({int(tiles[0])} tiles x {choice.replication}); {arrays} arrays are available")
    if exact_adc and adc_energy == "fixed":
        ok &= need <= pim.adc_bits
        if not ok.any():
            raise CrossbarError(f"exact_adc: a {pim.adc_bits}-bit ADC cannot resolve even one row of {pim.dac_bits}-bit inputs "
                                f"on {pim.bits_per_cell}-bit cells")
    dac = V * passes * G * K * n_c
    adc = V * passes * n_r * G * M * cpw
    cells = V * passes * ((G // Kk) * Kk ** 2 + (G % Kk) ** 2) * K * M * cpw
    adds = V * n_r * G * M * (passes * cpw - 1) + V * G * M * (n_r - 1)
    in_words, out_words = V * G * K * n_c, V * G * M
    acc_bits = arch.compute.accumulator_bits or 2 * s.weight_bits
    add_pj = power_law(acc_bits, INT_ADD_PJ) * energy_scale(arch.technology_nm)
    buf_pj = in_words * _level_word_pj(arch, "inputs", "read") + out_words * _level_word_pj(arch, "outputs", "write")
    adc_pj = pim.adc_energy_pj * (np.exp2(need - pim.adc_bits) if adc_energy == "sized" else 1.0)
    energy = {"dac": dac * pim.dac_energy_pj, "adc": adc * adc_pj, "cells": cells * pim.cell_energy_pj,
              "digital": adds * add_pj, "buffers": np.broadcast_to(buf_pj, T.shape)}
    total = sum(energy.values())
    cycles = rounds * -(-V // R) * passes
    score = {"energy": total, "cycles": cycles, "edp": total * cycles}[objective]
    other = cycles if objective == "energy" else total
    arrays_used = np.minimum(tiles * R, arrays)
    order = np.lexsort((T, arrays_used, other, score, ~ok))
    i = int(order[0])
    useful = G * K * M * cpw
    tile_cells = int(tiles[i]) * pim.rows * pim.columns
    return CrossbarMapping(
        shape=s, rows=pim.rows, columns=pim.columns, arrays=arrays, cells_per_weight=cpw, rows_per_array=int(rows_used[i]),
        groups_per_array=int(Kk[i]), replication=int(R[i]), row_tiles=int(n_r[i]), column_tiles=int(n_c[i]),
        tiles=int(tiles[i]), rounds=int(rounds[i]), arrays_used=int(arrays_used[i]), passes=passes,
        counts={"dac_conversions": int(dac[i]), "adc_conversions": int(adc[i]), "cell_reads": int(cells[i]),
                "digital_adds": int(adds[i]), "input_words_in": int(in_words[i]), "output_words_out": int(out_words)},
        energy_pj={c: float(energy[c][i]) for c in COMPONENTS}, cycles=int(cycles[i]),
        utilization=useful / tile_cells,
        row_utilization=G * K * int(n_c[i]) / (int(tiles[i]) * pim.rows),
        column_utilization=G * M * cpw * int(n_r[i]) / (int(tiles[i]) * pim.columns),
        chip_utilization=min(1.0, useful * int(R[i]) / (arrays * pim.rows * pim.columns)),
        adc_bits_needed=int(need[i]), adc_lost_bits=0 if adc_energy == "sized" else max(0, int(need[i]) - pim.adc_bits), options_searched=int(ok.sum()))


def _check_choice(c: CrossbarChoice, s: LayerShape, pim: PimArray, arrays: int, kmax: int) -> None:
    """A given choice that the array cannot take: one line naming the field and what is allowed."""
    if c.rows_per_array > pim.rows:
        raise CrossbarError(f"crossbar.rows_per_array: {c.rows_per_array} exceeds the array's {pim.rows} rows")
    if c.groups_per_array > kmax:
        raise CrossbarError(f"crossbar.groups_per_array: {c.groups_per_array} groups of layer {s.name!r} "
                            f"({s.G} groups of {s.K} rows x {s.M} weights) do not fit one {pim.rows} x {pim.columns} array; "
                            f"at most {kmax}")
    if c.groups_per_array > 1 and c.rows_per_array < c.groups_per_array * s.K:
        raise CrossbarError(f"crossbar.rows_per_array: {c.groups_per_array} packed groups need all their "
                            f"{c.groups_per_array * s.K} rows in one array, got {c.rows_per_array}")
    if c.replication > arrays:
        raise CrossbarError(f"crossbar.replication: {c.replication} copies exceed the {arrays} arrays")


def resized(pim: PimArray, rows: int, columns: int | None = None) -> PimArray:
    """``pim`` with arrays of ``rows`` x ``columns`` (default square); ADC sharing kept where it
    divides, else one ADC for all the columns. Validated like a spec's."""
    columns = columns or rows
    share = pim.columns_per_adc if columns % pim.columns_per_adc == 0 else columns
    try:
        return PimArray.model_validate({**pim.model_dump(), "rows": rows, "columns": columns, "columns_per_adc": share})
    except ValidationError as e:
        msg = e.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise CrossbarError(f"array {rows} x {columns}: {msg}") from None
