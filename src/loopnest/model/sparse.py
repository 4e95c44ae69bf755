"""Sparsity in the cost model: expected actual, gated and skipped counts from the dense counts.

The dense (algorithmic) counts of ``model.counts`` are multiplied by fractions that depend on
the tensors' densities (``Tensor.density``) and on the architecture's sparse features
(``Storage.sparse``, ``Compute.sparse``); every fraction is an array over mappings, so the
model stays vectorized. The rules, in the order the code applies them (docs/model.md,
"Sparsity"):

1. Format. A tensor kept at a level in a compressed format (bitmask, rle, cp) stores and moves
   only its nonzeros: its reads, fills and updates there are the dense ones times its density d
   (the zeros are neither counted as gated nor as skipped: they are not there); rle also stores
   the explicit zeros that end runs longer than its run field holds (``Density.rle_entries``: d
   plus those fillers per dense position). ``uncompressed`` and ``uop`` (offsets only) keep every
   value.
2. Gating and skipping at a storage level p, for a target tensor conditioned on leaders: a
   transfer of the target from p to its consumer (the next level below that keeps it, or the
   MAC) happens only where every leader's tile at the consumer holds a nonzero. Its probability
   is g = prod over leaders of P(tile nonempty) (``Density.p_nonempty``; the leader's per-instance
   tile at the consumer level, one value at the MAC; leaders independent). The target's reads
   (and, for outputs, updates) at p and its fills at the consumer are times g, and so are the
   words it sends over the fanouts in between; the eliminated part is gated or skipped. The
   read-backs of outputs: each eliminated update removes its read-back, the first write of each
   element stays (eliminated reads = min(reads, eliminated updates)) -- Sparseloop's count.
3. Metadata, per access of the tensor's data at that level (after rule 2's g): bitmask one bit per
   dense position, rle and cp one metadata word (run length, coordinate) per stored entry, uop two offsets per tile moved
   (the consumer's tile for reads, the level's own for fills). A metadata word is
   ``metadata_bits`` wide (bitmask packs ``metadata_bits`` flags in one); its energy is
   ``Storage.metadata_energy_of``; its bandwidth is ``metadata_bits / word_bits`` data words.
   A format of two ranks (``[uop, rle]``, outer -> inner) applies the rules above to its inner
   rank, whose fibers are the consumer's tiles (c values), and adds the outer rank's metadata
   over the n = tile / c consumer tiles of the level's tile (a fraction where windows overlap):
   uop n + 1 offsets, bitmask n flags, cp and rle one entry per nonempty consumer tile
   (n P(nonempty)). Per consumer tile moved that is (n + 1) / n, 1 / metadata_bits, P(nonempty)
   words; per fill of the level's own tile, n times that. Sparseloop's uop count (its 04.2.1:
   65 offsets over 64 input tiles, read 6 times: 390).
4. Occupancy (capacity checks): the expected nonzeros of the tile, rounded up, plus the
   metadata of the tile (bitmask: tile bits; rle, cp: one word per expected entry; uop: two
   words; an outer rank: its words in the level's tile, rule 3) in data words, rounded up.
   Expected values by default; a level's ``sparse.occupancy`` may reserve the worst case or a
   quantile of the tile's nonzeros instead (``_reserved_entries``).
5. Compute: MACs where a gating or skipping operand is zero are gated or skipped (element
   granularity: the fraction kept is the product of the operands' densities). Skipped MACs take
   no cycle: compute cycles are the dense ones times the fraction not skipped, which assumes
   perfect load balance (the skipped work is spread evenly over PEs and time steps), or, with
   ``compute.sparse.load_balance: expected_max``, the expected slowest instance of a fanout
   (``balanced_cycle_fraction``). Gated MACs keep their cycles. Neither costs energy (gated
   energy is 0).
6. (De)compression: a level that keeps a tensor uncompressed below a parent that keeps it in a
   compressed format costs ``decompression_energy_pj`` per value it is filled with and
   ``compression_energy_pj`` per entry of its updates the parent stores (Sparseloop's counts in
   its 04.2.1: 1,382,400 input values decompressed into the buffer, 104,613 output entries
   compressed to DRAM).
7. Bandwidth: the actual accesses and the metadata count against a level's read and write
   bandwidth; where ``gated_keep_slot`` is set, the gated ones too (Sparseloop's rule: a gated
   access is not performed but keeps its port slot).

A layer with every tensor dense on an architecture with no compressed format gives exactly the
dense counts (every factor is 1.0 and the counts stay below 2**53).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopnest.arch.spec import COMPRESSED, Architecture
from loopnest.workload.density import Density
from loopnest.workload.problem import ROLES, Problem

READS, FILLS, UPDATES, NETWORK, TILES = range(5)
OUT = ROLES.index("outputs")
_DENSE = Density()


@dataclass(frozen=True, eq=False)
class SparsePlan:
    """What a layer's sparsity needs per block, fixed per (layer, architecture)."""

    density: tuple[Density, ...]  # per role
    sizes: tuple[int, ...]  # whole tensor sizes (values), per role
    formats: tuple[tuple[str, ...], ...]  # [level][role]: the inner rank's format
    outer: tuple[tuple[str | None, ...], ...]  # [level][role]: the outer rank's format (None: one rank)
    feature: tuple[tuple[tuple[str, tuple[int, ...]] | None, ...], ...]  # [level][role]: (gating|skipping, leaders)
    meta_bits: tuple[int, ...]  # per level
    meta_ratio: np.ndarray  # (L,) metadata_bits / word_bits
    meta_pj: np.ndarray  # (L, 3, 3) pJ per metadata word [level, role, read | write | update]
    stored: np.ndarray  # (L, 3) data words stored and moved per dense position: 1, d, or rle entries
    mac_actual: float  # fraction of MACs performed
    mac_gated: float
    mac_skipped: float
    keep_slot: tuple[bool, ...] = ()  # per level: gated accesses count against its bandwidth
    codec_pj: np.ndarray | None = None  # (L, 2) pJ per value decompressed, per entry compressed (None: no codec)

    @property
    def has_outer(self) -> bool:
        """Whether a tensor is kept in two ranks somewhere (its outer rank's metadata is kept apart)."""
        return any(f is not None for per in self.outer for f in per)
    occupancy_rule: tuple[tuple[str, float], ...] = ()  # per level: (expected | worst | quantile, quantile); () all expected
    balance_level: int | None = None  # expected_max load balance: the synchronizing fanout's level (None: ideal)

    @property
    def cycle_fraction(self) -> float:
        return 1.0 - self.mac_skipped

    def floor_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Per level, tensor and action, the least fraction of its dense count that rules 1-2 keep
        (metadata only adds): storage (L, 3, 3) [level, role, read | fill | update] and network
        (L, 3). The mapper prices its dense floors with them (``search.bounds.floor_prices``).

        A leader's tile holds at least one value, so P(tile nonempty) >= its density: the
        transfers out of a level with a feature keep at least the product ``lead`` of its leaders'
        densities. Reads and updates at a level: its own ``lead`` times its stored share (rule 1,
        exact). Fills at level l: its share times the supplier's ``lead``, a keeper above l (at
        least the least over levels 0..l-1). Fanout words below level q: the ``lead`` of the
        innermost keeper at or above q (the least over levels 0..q), times that keeper's share
        for inputs and weights (the least over levels 0..q). Outputs' reads at a level gating or
        skipping them: 0 (every read-back of an eliminated update may go)."""
        L = len(self.formats)
        d = [x.value for x in self.density]
        lead = np.ones((L, 3))
        for l, per in enumerate(self.feature):
            for t, f in enumerate(per):
                if f is not None:
                    lead[l, t] = float(np.prod([d[s] for s in f[1]]))
        upto = np.minimum.accumulate(lead, axis=0)  # least over levels 0..q
        above = np.vstack([np.ones((1, 3)), upto[:-1]])  # least over levels 0..l-1
        storage = np.stack([self.stored * lead, self.stored * above, self.stored * lead], axis=2)
        storage[[f[OUT] is not None for f in self.feature], OUT, READS] = 0.0
        share = np.minimum.accumulate(self.stored, axis=0)
        share[:, OUT] = 1.0
        return storage, upto * share


def plan(problem: Problem, arch: Architecture) -> SparsePlan | None:
    """The layer's sparse plan, or None where nothing is sparse (the dense model applies as is)."""
    dens = tuple(problem.tensor(r).density or _DENSE for r in ROLES)
    feats = [lv.sparse for lv in arch.levels]
    cs = arch.compute.sparse
    if all(d.is_dense for d in dens) and all(f is None for f in feats) and cs is None:
        return None
    formats, outer, feature, meta_bits = [], [], [], []
    meta_pj = np.zeros((len(arch.levels), 3, 3))
    for l, lv in enumerate(arch.levels):
        sp = lv.sparse
        formats.append(tuple("uncompressed" if sp is None else sp.format_of(r) for r in ROLES))
        outer.append(tuple(None if sp is None or len(sp.ranks_of(r)) < 2 else sp.ranks_of(r)[0] for r in ROLES))
        per = [None] * 3
        if sp is not None:
            for kind in ("gating", "skipping"):
                for a in getattr(sp, kind):
                    per[ROLES.index(a.target)] = (kind, tuple(ROLES.index(r) for r in a.condition_on))
        feature.append(tuple(per))
        meta_bits.append(sp.metadata_bits if sp is not None else lv.word_bits)
        if sp is not None:
            meta_pj[l] = [[lv.metadata_energy_of(r, a) for a in ("read", "write", "update")] for r in ROLES]
    skip = float(np.prod([dens[ROLES.index(r)].value for r in cs.skipping])) if cs is not None else 1.0
    gate = float(np.prod([dens[ROLES.index(r)].value for r in cs.gating])) if cs is not None else 1.0
    sizes = tuple(problem.size(problem.tensor(r)) for r in ROLES)
    codec = np.array([(0.0, 0.0) if f is None else (f.decompression_energy_pj, f.compression_energy_pj) for f in feats])
    codec = codec if codec.any() else None
    stored = np.array([[1.0 if f not in COMPRESSED else d.rle_entries(mb) if f == "rle" else d.value
                        for f, d in zip(fl, dens)] for fl, mb in zip(formats, meta_bits)]).reshape(len(formats), 3)
    return SparsePlan(dens, sizes, tuple(formats), tuple(outer), tuple(feature), tuple(meta_bits),
                      np.array(meta_bits, float) / np.array([lv.word_bits for lv in arch.levels], float), meta_pj, stored,
                      mac_actual=skip * gate, mac_gated=skip * (1.0 - gate), mac_skipped=1.0 - skip,
                      keep_slot=tuple(bool(f is not None and f.gated_keep_slot) for f in feats), codec_pj=codec,
                      occupancy_rule=_occupancy_rules(arch), balance_level=_balance_level(arch))


def _occupancy_rules(arch: Architecture) -> tuple[tuple[str, float], ...]:
    """Per level, ``sparse.occupancy`` and its quantile; () where every level reserves the expected tile."""
    rules = tuple(("expected", 0.0) if lv.sparse is None else (lv.sparse.occupancy, lv.sparse.occupancy_quantile)
                  for lv in arch.levels)
    return () if all(r == "expected" for r, _ in rules) else rules


def _balance_level(arch: Architecture) -> int | None:
    """The level whose fanout's instances wait for the slowest under ``expected_max`` (None: ideal)."""
    cs = arch.compute.sparse
    if cs is None or cs.load_balance == "ideal":
        return None
    if cs.balance_level is not None:
        return arch.level_index(cs.balance_level)
    return next((l for l, lv in enumerate(arch.levels) if lv.fanout is not None), None)


def balanced_cycle_fraction(p: SparsePlan, temporal: np.ndarray, spatial: np.ndarray) -> np.ndarray | float:
    """Per mapping (B,), the compute cycles as a fraction of the dense ones under the plan's load
    balance (docs/sparsity.md, "Load balance"). Ideal: the fraction of MACs not skipped, q.
    Expected max: the N active instances of the balance level's fanout synchronize once per fold
    (an iteration of the temporal loops at or above that level, ``temporal`` (B, L, D)); in a fold
    each receives n = (its dense MAC steps in the fold) x (its PEs in use) MACs, keeps each
    independently with probability q (Binomial(n, q)) and spreads what it keeps evenly over its
    PEs; the fold lasts E[max of N Binomial(n, q)] / (its PEs in use). The fraction is that over
    the dense fold, E[max] / n: q where N = 1 or q = 1, never below q (Jensen)."""
    q = p.cycle_fraction
    l = p.balance_level
    if l is None or q in (0.0, 1.0):
        return q
    from loopnest.workload.density import expected_max_binomial

    B = len(temporal)
    steps_in_fold = np.prod(temporal[:, l + 1:].reshape(B, -1), axis=1)  # dense MAC steps per fold
    lanes = np.prod(spatial[:, l + 1:].reshape(B, -1), axis=1)  # PEs in use per instance
    inst = np.prod(spatial[:, l].reshape(B, -1), axis=1)  # active instances of the fanout
    keys, inv = np.unique(np.stack([steps_in_fold * lanes, inst]), axis=1, return_inverse=True)
    frac = np.array([expected_max_binomial(int(n), q, int(N)) / n for n, N in keys.T])
    return frac[inv.ravel()]


@dataclass
class SparseBlock:
    """One block's sparse counts, batch-innermost: (kind, L, 3, B) for kind reads | fills | updates."""

    actual: np.ndarray
    gated: np.ndarray
    skipped: np.ndarray
    metadata: np.ndarray  # metadata words
    network: np.ndarray  # (L, 3, B) actual words over each fanout
    occupancy: np.ndarray  # (L, 3, B) int64 expected tile occupancy in data words
    meta_energy: np.ndarray  # (L, 3, B) pJ of the metadata accesses
    meta_data_words: np.ndarray  # (2, L, B) metadata in data words read, written (bandwidth)
    outer_metadata: np.ndarray | None = None  # (kind, L, 3, B) the outer ranks' part of ``metadata`` (None: one rank)


def _reserved_entries(p: SparsePlan, l: int, t: int, tile: np.ndarray, share: float) -> np.ndarray:
    """Entries a compressed tile of ``tile`` values reserves at level l under its ``sparse.occupancy``
    rule (worst or quantile; ``Density.occupancy_bound``): the bound on its nonzeros; rle scales
    it by its entries per nonzero (share / d, the filler zeros), at most one entry per value."""
    d = p.density[t]
    rule, quantile = p.occupancy_rule[l]
    if p.formats[l][t] == "rle":
        if d.value == 0.0:
            return np.ceil(tile * share)
        nnz = d.occupancy_bound(tile, p.sizes[t], rule, quantile)
        return np.minimum(tile, np.ceil(nnz * (share / d.value)))
    return d.occupancy_bound(tile, p.sizes[t], rule, quantile).astype(float)


def _neighbours(keep_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For one tensor's keep (L, B): the next keeper below each level (L: the MAC) and the
    innermost keeper at or above each level."""
    L, B = keep_t.shape
    below = np.empty((L, B), np.int64)
    nxt = np.full(B, L, np.int64)
    for q in range(L - 1, -1, -1):
        below[q] = nxt
        nxt = np.where(keep_t[q], q, nxt)
    above = np.maximum.accumulate(np.where(keep_t, np.arange(L)[:, None], -1), axis=0)
    return below, above


def _outer_words(fmt: str, n: np.ndarray, mb: int, density: Density, c: np.ndarray, size: int) -> np.ndarray:
    """Metadata words of an outer rank per consumer tile (of ``c`` values) it indexes, for a level
    tile of ``n`` consumer tiles (rule 3): uop (n + 1) / n offsets, bitmask one flag (``mb`` per
    word), cp and rle one entry where the consumer tile is nonempty; uncompressed none."""
    if fmt == "uop":
        return (n + 1.0) / n
    if fmt == "bitmask":
        return np.full_like(n, 1.0 / mb)
    if fmt in ("cp", "rle"):
        return density.p_nonempty(np.rint(c).astype(np.int64), size)
    return np.zeros_like(n)


def _codec_energy(p: SparsePlan, actual: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(L, 3, B) pJ of (de)compression (rule 6): at each uncompressed level below a compressed
    supplier, its actual fills times the decompression price and the supplier's actual updates
    (compressed entries) times the compression price."""
    L, _, B = keep.shape
    out = np.zeros((L, 3, B))
    for t in range(3):
        packed = np.array([f[t] in COMPRESSED for f in p.formats] + [False])
        _, above = _neighbours(keep[:, t])
        src = np.vstack([np.full((1, B), -1), above[:-1]])  # each level's supplier (-1: none)
        below_packed = packed[src] & ~packed[:L, None] & keep[:, t]  # src -1 reads the trailing False
        updates = np.take_along_axis(actual[UPDATES, :, t], np.maximum(src, 0), axis=0)
        out[:, t] = below_packed * (actual[FILLS, :, t] * p.codec_pj[:, :1] + updates * p.codec_pj[:, 1:])
    return out


def sparse_block(p: SparsePlan, words: np.ndarray, keep: np.ndarray) -> SparseBlock:
    """Apply the module's rules to one block of ``count_block``'s words (5, L, 3, B) and keep (L, 3, B)."""
    _, L, _, B = words.shape
    dense = words[:3].astype(float)
    actual = dense.copy()
    gated = np.zeros_like(actual)
    skipped = np.zeros_like(actual)
    network = words[NETWORK].astype(float)
    tiles = words[TILES]
    with_mac = np.concatenate([tiles.astype(float), np.ones((1, 3, B))])  # per-instance tiles, the MAC's: 1
    ones = np.ones(B)
    meta = np.zeros_like(actual)
    outer_meta = np.zeros_like(actual) if p.has_outer else None
    occupancy = tiles.astype(np.int64)
    for t in range(3):
        below, above = _neighbours(keep[:, t])
        consumer_tile = np.take_along_axis(with_mac[:, t], below, axis=0)  # (L, B)
        frac = np.ones((L, B))  # g of the transfers out of each level
        for l in range(L):
            f = p.feature[l][t]
            if f is None:
                continue
            g = ones
            for s in f[1]:
                lead = np.take_along_axis(with_mac[:, s], below[l:l + 1], axis=0)[0]
                g = g * p.density[s].p_nonempty(lead.astype(np.int64), p.sizes[s])
            frac[l] = g
            sink = gated if f[0] == "gating" else skipped
            kinds = (READS, UPDATES) if t == OUT else (READS,)
            for k in kinds:
                lost = dense[k, l, t] * (1.0 - g)
                if k == READS and t == OUT:
                    lost = np.minimum(dense[READS, l, t], dense[UPDATES, l, t] * (1.0 - g))
                actual[k, l, t] -= lost
                sink[k, l, t] += lost
        if any(p.feature[l][t] is not None for l in range(L)):
            # fills at a level: times the g of the keeper above it (its supplier)
            src = np.vstack([np.full((1, B), -1), above[:-1]])  # the supplier of each level's fills
            sup = np.take_along_axis(frac, np.maximum(src, 0), axis=0)
            sup[0] = 1.0  # the outermost level is never filled
            lost = dense[FILLS, :, t] * (1.0 - sup)
            actual[FILLS, :, t] -= lost
            for l in range(L):  # each level's lost fills count as its supplier's kind
                if p.feature[l][t] is not None:
                    (gated if p.feature[l][t][0] == "gating" else skipped)[FILLS, :, t] += lost * (src == l)
            network[:, t] *= np.take_along_axis(frac, np.maximum(above, 0), axis=0)
        # formats: compressed levels hold and move nonzeros only (rle: and its filler entries)
        for l in range(L):
            fmt, out_fmt = p.formats[l][t], p.outer[l][t]
            if fmt == "uncompressed" and out_fmt is None:
                continue
            positions = actual[:, l, t].copy()  # dense positions moved (after gating / skipping)
            share = p.stored[l, t]
            if share != 1.0:
                actual[:, l, t] *= share
                gated[:, l, t] *= share
                skipped[:, l, t] *= share
            mb = p.meta_bits[l]
            occ_meta = np.zeros(B)
            if fmt == "bitmask":  # one flag per dense position, mb flags per metadata word
                meta[:, l, t] = positions / mb
                occ_meta = tiles[l, t] / mb
            elif fmt in ("rle", "cp"):  # one run length or coordinate per stored entry
                meta[:, l, t] = actual[:, l, t]
                occ_meta = tiles[l, t] * share
            elif fmt == "uop":  # two offsets per tile moved
                meta[READS, l, t] = 2.0 * actual[READS, l, t] / consumer_tile[l]
                meta[UPDATES, l, t] = 2.0 * actual[UPDATES, l, t] / consumer_tile[l]
                meta[FILLS, l, t] = 2.0 * actual[FILLS, l, t] / np.maximum(tiles[l, t], 1)
                occ_meta = np.full(B, 2.0)
            if out_fmt is not None:  # the outer rank over the level tile's n consumer tiles (rule 3)
                c = consumer_tile[l]
                n = np.maximum(tiles[l, t] / c, 1.0)
                per_child = _outer_words(out_fmt, n, mb, p.density[t], c, p.sizes[t])
                outer_meta[READS, l, t] = positions[READS] / c * per_child
                outer_meta[UPDATES, l, t] = positions[UPDATES] / c * per_child
                outer_meta[FILLS, l, t] = positions[FILLS] / np.maximum(tiles[l, t], 1) * n * per_child
                meta[:, l, t] += outer_meta[:, l, t]
                occ_meta = occ_meta + n * per_child
            data_occ = np.ceil(tiles[l, t] * share) if fmt in COMPRESSED else tiles[l, t]
            if p.occupancy_rule and p.occupancy_rule[l][0] != "expected" and fmt in COMPRESSED:
                data_occ = _reserved_entries(p, l, t, tiles[l, t], share)
                occ_meta = data_occ if fmt != "bitmask" else occ_meta
            occupancy[l, t] = data_occ + np.ceil(occ_meta * p.meta_ratio[l])
        if t != OUT:  # the parent's format sets what crosses a fanout
            share = np.append(p.stored[:, t], 1.0)
            network[:, t] *= share[np.maximum(above, 0)]
    meta_energy = np.einsum("klrb,lrk->lrb", meta, p.meta_pj) if meta.any() else np.zeros((L, 3, B))
    if p.codec_pj is not None:
        meta_energy += _codec_energy(p, actual, keep)
    md = meta * p.meta_ratio[None, :, None, None]
    meta_words = np.stack([md[READS].sum(axis=1), (md[FILLS] + md[UPDATES]).sum(axis=1)])
    return SparseBlock(actual, gated, skipped, meta, network, occupancy, meta_energy, meta_words, outer_meta)

