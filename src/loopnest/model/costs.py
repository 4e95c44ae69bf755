"""Costs of a batch of mappings: validity (capacity, fanout), energy, cycles, utilization.

Energy rule: ``words * energy_pj[action] / block_words`` per level, tensor and action (perfect
coalescing into blocks), plus ``words * fanout.energy_pj`` for each word crossing a fanout
(counted per destination instance), plus ``MACs * compute.energy_pj``. The counts are values;
``model.precision`` converts them to words at each tensor's bit width (packing rule) and prices
the MACs at the operand widths; at one value per word the conversion is the identity.
Actions: reads (served to the level below, psum read-backs included) cost ``read``; fills cost
``write``; output updates (read-modify-write from below) cost ``update``.

Cycles: the maximum of the compute cycles (the product of all temporal factors: one MAC per PE
per cycle) and, for every level with a stated bandwidth, its per-instance read words divided by
the read bandwidth and its per-instance written words (fills + updates) divided by the write
bandwidth. The bound that sets the cycles is reported. A systolic fanout (``fanout.systolic``,
x rows by y columns) adds its pipeline's fill and drain to the compute cycles once per **fold**,
an iteration of the temporal loops at or above its level (each gives the array a new tile; the
loops below stream through it): ``fanout.fill_drain_cycles`` per fold (``2x + y - 2`` for WS and
IS, ``x + y - 2`` for OS: SCALE-Sim's per-fold cycles less its ``T`` streaming steps).

Static (leakage) energy, beside the dynamic energy above and not part of ``energy_pj``: the
components' stated ``leakage_mw`` times the modeled runtime, ``cycles / clock`` (mW x ns = pJ).

Strided windows: an index at stride or dilation ``c`` spans the hull of its positions by default
(``c (t - 1) + 1`` for ``t`` outputs of a 1 x 1 filter, Timeloop's rectangle); with
``strided_windows: positions`` only the positions read are counted: a one-term index (a 1 x 1
filter at stride 2) as ``t`` (``workload.problem.read_positions``, applied here and in the
mapspace), a window with its stride or dilation by ``model.positions`` (tiles, unions and each
step's new positions; the mapspace prunes and bounds on unit coefficients, a relaxation).

Tensors held on chip between layers (``resident``, the TPU's activations in its unified buffer)
do not cross the outermost level: those transfers are not counted, and a mapping is valid only
where level 1 holds each such tensor whole.

Invariants, checked on every block (cheap reductions): every count is non-negative, every
energy finite and non-negative, cycles finite and positive, utilization in [0, 1] where the
fanouts fit. A violation is a bug in the model and raises ``ModelInvariantError`` (one line)
instead of returning a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import MappingBatch, MappingError
from loopnest.model.counts import FILLS, OUT, READS, UPDATES, Counts, count_block
from loopnest.model.precision import Prices, prices, psum_levels, tile_words
from loopnest.model.sparse import SparseBlock, SparsePlan, balanced_cycle_fraction, plan, sparse_block
from loopnest.workload.problem import ROLES, Problem, read_positions

CHUNK = 12 * 1024  # mappings per pass: the working set of one pass stays in the CPU caches (measured best)
# after a block with remainder tiles: their counts take several times the array passes of an
# exact block, so a larger block amortizes the per-pass overhead (2x: 17% faster on the
# benchmark's remainder batch, +26 MB of temporaries; 4x: 26%, +100 MB)
CLIPPED_CHUNK = 2 * CHUNK
KINDS = ("reads", "fills", "updates", "network words", "tile words")  # count_block's kinds, in order


class ModelInvariantError(RuntimeError):
    """A result breaks an invariant of the model (a negative count, a utilization above 1, ...):
    a bug in loopnest, reported as one clear line instead of a wrong number."""


@dataclass
class SparseCounts:
    """Expected sparse counts (model.sparse), arrays (B, L, 3 tensors, 3 actions: reads, fills,
    updates) in values, and the MACs as fractions of the algorithmic ones; ``counts`` of
    ``BatchCosts`` stay the algorithmic (dense) counts."""

    actual: np.ndarray
    gated: np.ndarray
    skipped: np.ndarray
    metadata: np.ndarray  # metadata words (every rank)
    plan: SparsePlan
    macs: int
    outer_metadata: np.ndarray | None = None  # the outer ranks' part of ``metadata`` (None: no two-rank format)

    @property
    def actual_macs(self) -> float:
        return self.macs * self.plan.mac_actual

    @property
    def gated_macs(self) -> float:
        return self.macs * self.plan.mac_gated

    @property
    def skipped_macs(self) -> float:
        return self.macs * self.plan.mac_skipped


@dataclass
class BatchCosts:
    """Costs of B mappings; arrays have the batch as first axis. Units: pJ, cycles, words."""

    counts: Counts
    valid: np.ndarray  # (B,) capacity and fanout fit
    capacity_ok: np.ndarray  # (B, L)
    spatial_ok: np.ndarray  # (B, L)
    storage_energy_pj: np.ndarray  # (B, L, 3) per level per tensor
    network_energy_pj: np.ndarray  # (B, L, 3) on the fanout below each level
    compute_energy_pj: float  # the same for every mapping of the layer
    cycles: np.ndarray  # (B,)
    bound: np.ndarray  # (B,) int: -1 compute, l level l's bandwidth
    utilization: np.ndarray  # (B,) MACs / (cycles * PEs)
    prices: Prices | None = None  # the layer's widths and per-value prices
    psum: np.ndarray | None = None  # (B, L) outputs held as partial sums (None: same width as outputs)
    leakage_pj_per_cycle: float = 0.0  # the architecture's static power per clock cycle (pJ)
    fill_drain_cycles: np.ndarray | None = None  # (B,) systolic fill/drain inside the compute cycles (None: no systolic fanout)
    sparse: SparseCounts | None = None  # actual / gated / skipped counts where the layer or the arch is sparse

    def words_per_value(self, i: int) -> np.ndarray:
        """(L, 3) words one value access costs at each level for mapping ``i`` (1 without prices)."""
        if self.prices is None:
            return np.ones(self.counts.reads.shape[1:])
        w = self.prices.words.copy()
        if self.psum is not None:
            w[:, OUT] = np.where(self.psum[i], self.prices.psum_words, w[:, OUT])
        return w

    @property
    def energy_pj(self) -> np.ndarray:
        return self.storage_energy_pj.sum(axis=(1, 2)) + self.network_energy_pj.sum(axis=(1, 2)) + self.compute_energy_pj

    @property
    def leakage_energy_pj(self) -> np.ndarray:
        """(B,) static (leakage) energy: static power times the modeled runtime (pJ)."""
        return self.cycles * self.leakage_pj_per_cycle

    @property
    def edp(self) -> np.ndarray:
        """Energy-delay product in pJ * cycles."""
        return self.energy_pj * self.cycles

    @property
    def energy_by_level_pj(self) -> np.ndarray:
        """(B, L + 1): each level with its fanout's network energy, then the MACs."""
        levels = self.storage_energy_pj.sum(axis=2) + self.network_energy_pj.sum(axis=2)
        mac = np.full((levels.shape[0], 1), self.compute_energy_pj)
        return np.concatenate([levels, mac], axis=1)

    @property
    def accesses_by_level(self) -> np.ndarray:
        """(B, L): words read, filled and updated at each level, all tensors, as Python integers
        (exact: nine int64 counts may sum beyond int64)."""
        c = self.counts
        return sum(x.astype(object) for x in (c.reads, c.fills, c.updates)).sum(axis=2)


def _capacity_ok(arch: Architecture, keep: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """(L, B) the kept tiles fit each level; ``keep`` and ``tiles`` (in words) are (L, 3, B)."""
    kept = tiles * keep
    ok = np.ones(kept.shape[::2], bool)
    for l, lv in enumerate(arch.levels):
        if lv.partitions is not None:
            for t, role in enumerate(ROLES):
                cap = lv.capacity_of(role)
                if cap is None:  # a tensor with no partition may not be kept here
                    ok[l] &= ~keep[l, t]
                else:
                    ok[l] &= kept[l, t] <= cap
        elif lv.capacity_words is not None:
            ok[l] = kept[l].sum(axis=0) <= lv.capacity_of(ROLES[0])
    return ok


def evaluate_batch(problem: Problem, arch: Architecture, batch: MappingBatch) -> BatchCosts:
    """Evaluate B mappings of one layer at once with array operations (no loop per mapping)."""
    if not batch.keep[:, 0, :].all():
        raise MappingError(f"the outermost level {arch.levels[0].name} must keep every tensor")
    if arch.strided_windows == "positions":
        problem = read_positions(problem)
    price = prices(problem, arch)
    sp = plan(problem, arch)
    # an energy is at most 3 counts below 2**63 times a per-value price: finite for any price below ~1e288 pJ
    bounded = bool(max(a.max(initial=0) for a in (price.storage, price.psum_storage, price.network,
                                                  price.psum_network)) * 2.0**65 < np.inf)
    B, L = len(batch), len(arch.levels)
    # results batch-innermost, as the blocks compute them
    acc = np.zeros((5, L, 3, B), np.int64)  # reads, fills, updates, network, tiles
    steps, active = np.empty(B, np.int64), np.empty((L, B), np.int64)
    valid, ok = np.empty(B, bool), np.empty((2, L, B), bool)  # all levels fit; capacity, fanout per level
    energy = np.zeros((2, L, 3, B))  # storage, network (0 where no fanout)
    psum = None if not price.psums_differ else np.empty((L, B), bool)
    cycles, bound, utilization = np.empty(B), np.empty(B, np.int64), np.empty(B)
    fill = _fill_drain(arch, batch.temporal) if any(lv.fanout is not None and lv.fanout.systolic is not None
                                                     for lv in arch.levels) else None
    sacc = None if sp is None else np.zeros((4 + sp.has_outer, 3, L, 3, B))  # actual, gated, skipped, metadata[, outer]
    i, size = 0, CHUNK
    while i < max(B, 1):  # cache-sized blocks: small temporaries, hot counts
        part = slice(i, i + size)
        *block, rows, drain, clipped = count_block(problem, arch, batch[part])
        i, size = i + size, CLIPPED_CHUNK if clipped else CHUNK
        if arch.resident:
            _resident(arch, block[0], block[3])
        for row in rows:  # the other rows are 0
            acc[row + (part,)] = block[0][row]
        active[:, part], steps[part] = block[1:3]
        sb, frac = None, 1.0
        if sp is not None:
            sb = sparse_block(sp, block[0], block[3])
            frac = balanced_cycle_fraction(sp, batch.temporal[part], batch.spatial[part])
            for j, x in enumerate((sb.actual, sb.gated, sb.skipped, sb.metadata, sb.outer_metadata)[:len(sacc)]):
                sacc[j, ..., part] = x
        _costs(problem, arch, price, *block, valid[part], ok[..., part], energy[..., part],
               cycles[part], bound[part], utilization[part], None if psum is None else psum[:, part],
               None if fill is None else fill[part], drain, sb, sp, frac)
        _check(problem, arch, block[0], energy[..., part], bounded, cycles[part], utilization[part], ok[1, :, part])
    reads, fills, updates, network, tiles = np.moveaxis(acc, 3, 1)  # each (B, L, 3)
    c = Counts(reads, fills, updates, network, tiles, problem.macs, steps, active.T)
    storage, network = np.moveaxis(energy, 3, 1)
    compute = problem.macs * price.mac_pj * (1.0 if sp is None else sp.mac_actual)
    sparse = None
    if sp is not None:
        per = [x.transpose(3, 1, 2, 0) for x in sacc]  # actual, gated, skipped, metadata[, outer ranks' metadata]
        sparse = SparseCounts(*per[:4], sp, problem.macs, per[4] if sp.has_outer else None)
    return BatchCosts(c, valid, ok[0].T, ok[1].T, storage, network, compute, cycles, bound, utilization,
                      price, None if psum is None else psum.T, arch.leakage_pj_per_cycle, fill, sparse)


def _fill_drain(arch: Architecture, temporal: np.ndarray) -> np.ndarray:
    """(B,) fill/drain cycles of every systolic fanout: its folds (the product of the temporal
    factors of its level and every level above, ``temporal`` (B, L, D)) times its per-fold cost."""
    out = np.zeros(len(temporal))
    for l, lv in enumerate(arch.levels):
        if lv.fanout is not None and lv.fanout.systolic is not None:
            folds = np.prod(temporal[:, :l + 1].reshape(len(temporal), -1), axis=1, dtype=float)
            out += folds * lv.fanout.fill_drain_cycles
    return out


def _resident(arch: Architecture, words: np.ndarray, keep: np.ndarray) -> None:
    """Tensors held on chip between layers (``Architecture.resident``) never cross the outermost
    level: where level 1 keeps such a tensor (``keep`` (L, 3, b)), its level-0 reads and updates and
    its level-1 fills are zeroed in the block's counts (5, L, 3, b). Exact where level 1 holds the
    whole tensor, which ``_costs`` makes a validity condition (else those transfers would be
    refetches from a memory the tensor is not in); a mapping that bypasses level 1 keeps its
    counts, and is invalid."""
    for role in arch.resident:
        t = ROLES.index(role)
        moved = ~keep[1, t]
        for kind, l in ((READS, 0), (FILLS, 1)) + (((UPDATES, 0),) if t == OUT else ()):
            words[kind, l, t] *= moved


def _costs(problem: Problem, arch: Architecture, price: Prices, words: np.ndarray,
           active: np.ndarray, compute_steps: np.ndarray, keep: np.ndarray, xy: np.ndarray,
           valid: np.ndarray, ok: np.ndarray, energy: np.ndarray, cycles: np.ndarray, bound: np.ndarray,
           utilization: np.ndarray, psum: np.ndarray | None, fill: np.ndarray | None = None,
           drain: np.ndarray | None = None, sb: SparseBlock | None = None, sp: SparsePlan | None = None,
           cycle_fraction: np.ndarray | float = 1.0) -> None:
    """Validity, energies and cycles of one block of mappings from ``count_block``'s output,
    written into the block's slices of the results (all batch-innermost); ``psum`` (L, B), when
    given, receives the levels whose outputs are partial sums; ``fill`` (B,), when given, is the
    systolic fill/drain added to the compute cycles; ``drain`` (L, B), when given, the outputs' drain
    reads inside ``reads``, which do not make a level's outputs partial sums. With ``sb``
    (model.sparse), the actual counts, compressed occupancies and metadata replace the dense counts,
    and the compute cycles are the dense ones times ``cycle_fraction`` (``balanced_cycle_fraction``)."""
    reads, fills, updates, network_words, tiles = words
    psum_reads, psum_fills = reads[:, OUT], fills[:, OUT]  # partial sums are where the algorithm puts them
    dense_tiles = tiles  # a resident tensor must be held whole (dense) at level 1
    if sb is not None:
        (reads, fills, updates), network_words, tiles = sb.actual, sb.network, sb.occupancy
    storage, network = energy
    per_value = price.storage
    np.multiply(reads, per_value[:, :, 0, None], out=storage)
    storage[1:] += fills[1:] * per_value[1:, :, 1, None]  # the outermost level is never filled
    storage[:, OUT] += updates[:, OUT] * per_value[:, OUT, 2, None]  # only outputs are updated
    for l, lv in enumerate(arch.levels):
        if lv.fanout is not None:  # words cross fanouts only
            np.multiply(network_words[l], price.network[l, :, None], out=network[l])
    scale = None if price.native else price.words[:, :, None]  # values -> words for the bandwidths
    if psum is not None:  # outputs held as partial sums: priced at the accumulator width
        psum[:] = psum_levels(price, psum_reads if drain is None else psum_reads - drain, psum_fills)
        ps = price.psum_storage
        wide = reads[:, OUT] * ps[:, 0, None] + updates[:, OUT] * ps[:, 2, None]
        wide[1:] += fills[1:, OUT] * ps[1:, 1, None]
        storage[:, OUT] = np.where(psum, wide, storage[:, OUT])
        network[:, OUT] = np.where(psum, network_words[:, OUT] * price.psum_network[:, None], network[:, OUT])
        scale = np.broadcast_to(price.words[:, :, None], (*price.words.shape, psum.shape[1])).copy()
        scale[:, OUT] = np.where(psum, price.psum_words[:, None], price.words[:, OUT, None])
    if sb is not None:
        storage += sb.meta_energy
    ok[0] = _capacity_ok(arch, keep, tile_words(arch, price, tiles, psum))
    for role in arch.resident:  # held whole at level 1, or the layer would need the outermost level
        t = ROLES.index(role)
        ok[0, 1] &= keep[1, t] & (dense_tiles[1, t] == problem.size(problem.tensor(role)))
    limits = np.array([(lv.fanout.x, lv.fanout.y) if lv.fanout is not None else (1, 1) for lv in arch.levels])
    ok[1] = (xy[:, 0] <= limits[:, :1]) & (xy[:, 1] <= limits[:, 1:])
    for l, lv in enumerate(arch.levels):  # a fanout's min_usage: at least that many instances used
        if lv.fanout is not None and lv.fanout.min_instances > 1:
            ok[1, l] &= xy[l, 0] * xy[l, 1] >= lv.fanout.min_instances
    np.logical_and(ok[0, 0], ok[1, 0], out=valid)
    for l in range(1, len(arch.levels)):
        valid &= ok[0, l] & ok[1, l]
    cycles[:] = compute_steps * float(arch.compute.cycles_per_mac) * cycle_fraction
    if fill is not None:
        cycles += fill
    bound[:] = -1
    inst = active.astype(float)
    for l, lv in enumerate(arch.levels):  # the first of the largest bounds, as argmax
        level = np.zeros(len(cycles))
        rl, fl, ul = reads[l], fills[l], updates[l]
        if sb is not None and sp.keep_slot[l]:  # gated accesses keep their port slot (model.sparse, rule 7)
            rl, fl, ul = rl + sb.gated[READS, l], fl + sb.gated[FILLS, l], ul + sb.gated[UPDATES, l]
        if lv.read_bandwidth is not None:  # float64 sums: int64 ones may overflow for the largest layers
            r = rl if scale is None else rl * scale[l]
            rd = r.sum(axis=0, dtype=float) + (0.0 if sb is None else sb.meta_data_words[0, l])
            level = np.maximum(level, rd / inst[l] / lv.read_bandwidth)
        if lv.write_bandwidth is not None:
            f, u = (fl, ul) if scale is None else (fl * scale[l], ul * scale[l])
            written = f.sum(axis=0, dtype=float) + u.sum(axis=0, dtype=float) + (0.0 if sb is None else sb.meta_data_words[1, l])
            level = np.maximum(level, written / inst[l] / lv.write_bandwidth)
        bound[level > cycles] = l
        np.maximum(cycles, level, out=cycles)
    np.divide(problem.macs * (1.0 if sp is None else sp.mac_actual), cycles * arch.pes, out=utilization)


def _check(problem: Problem, arch: Architecture, words: np.ndarray, energy: np.ndarray, bounded: bool,
           cycles: np.ndarray, utilization: np.ndarray, fanout_ok: np.ndarray) -> None:
    """The invariants of one block's results (a few reductions): counts (5, L, 3, B) >= 0, energies
    finite and >= 0 (finite without a look where ``bounded``: the per-word energies are small enough
    that no count makes them overflow), cycles finite and > 0, utilization in [0, 1] where every
    fanout fits (then the active PEs are at most ``arch.pes`` and every MAC step takes at least one
    cycle)."""
    what = None
    if words.size and words.min() < 0:
        kind, l, t, b = np.unravel_index(np.argmin(words), words.shape)
        what = f"{words[kind, l, t, b]} {KINDS[kind]} of {ROLES[t]} at level {arch.levels[l].name} (mapping {b} of its block)"
    elif energy.size and not (energy.min() >= 0 and (bounded or energy.max() < np.inf)):  # NaN fails the first
        what = f"an energy of {energy.ravel()[np.argmin(np.nan_to_num(energy.ravel(), nan=-np.inf))]} pJ"
    elif cycles.size and not (cycles.min() > 0 and cycles.max() < np.inf):
        what = f"{cycles.min()} cycles"
    elif utilization.size and not (utilization.min() >= 0 and (utilization.max() <= 1 + 1e-9 or  # else: only where fanouts fit
                                                              utilization.max(where=fanout_ok.all(axis=0), initial=0) <= 1 + 1e-9)):
        what = f"a utilization of {utilization.max(where=fanout_ok.all(axis=0), initial=0)} where the fanouts fit"
    if what is not None:
        raise ModelInvariantError(f"internal error: the cost model computed {what} for layer {problem.name} on "
                                  f"{arch.name}; this is a bug in loopnest, please report it with the layer and the mapping")
