"""Brute-force reference simulator of the access counts, independent of loopnest.model.counts.

It iterates the loop nest literally and counts words with Python sets of tensor index tuples;
no tile-size, halo or delta formula is used. The counting rules (the model's documented ones,
stated operationally):

- Nest, outer -> inner: level 0 temporal loops (in the level's order), level 0 spatial loops
  (its fanout; X then Y), level 1 temporal, level 1 spatial, ... Loops of bound 1 are not loops.
  A dimension's value is the mixed-radix sum of its loops' indices (outer loops weigh more).
- Remainder tiles (factors multiplying past a dimension's size D): an iteration whose chunk starts
  at or past D is skipped (its instance idles at that step), and every tile is cut at D (the
  elements whose dimension values are all below the sizes). An instance's previous tile and
  previous step are those of its last step with work.
- Consumer ``c`` (a keeper level, or ``L`` = the MACs): its instances are the spatial loops of
  levels < c; its steps are the temporal loops of levels < c, in nest order; its per-instance
  tile at a step is the set of tensor elements touched by all loops of levels >= c (a MAC: one
  element). Literal sets: a stride wider than the window leaves gaps that are not counted;
  with ``halo`` each tile is completed to its bounding box instead (the model's documented halo
  rule, docs/model.md: gaps and padding count as data).
- Fetch of an instance at a step: its first step, or a step whose outermost loop changed since
  its previous step lies outside the innermost loop over a dimension indexing the tensor: the whole
  tile; a step where that innermost relevant loop itself is the outermost change: new tile -
  previous tile; else nothing. MACs fetch their element on every step.
- Parent ``p`` = the nearest keeper above ``c``. Instances of ``c`` under one parent instance
  that differ only in the spatial loops of sharing fanout axes (multicast for operands, reduction
  for outputs, per axis and tensor: ``Fanout.shares``) between p and c form a group; a group's words at a step = |union of its fetches|.
  With ``split_outer`` a sharing spatial loop over a relevant dimension that sits outside the
  consumer's innermost relevant temporal loop does not group (its instances count apart; the
  distinct-element counts of outputs still use the whole group).
- Operands: reads[p] += group words; fills[c] += instance fetches (keepers only).
- Outputs from MACs: updates[p] += group words; reads[p] += that - distinct elements written at
  each instance of p. Outputs from a child keeper (one writeback per tile version):
  updates[p] += group words; reads[p] += that - distinct elements per parent instance (children
  of a non-reducing fanout that write the same outputs: all but the first write are accumulated);
  fills[c] += instance fetches - distinct elements per instance.

``hazards`` lists (kind, p, c, role) where closed forms over boxes are at risk, to classify
disagreements with the model:
- "gappy": a tile, a group's union or the outputs written to a keeper has gaps on an axis that
  mixes dimensions (a stride or dilation wider than the window);
- "strided": a group's union, or the outputs written over the run, is not a box in dimension
  space (a loop below a fanout spaces its instances); "strided-overlap": such a group's members
  share words;
- "delta": at some sliding step |union of fetches| != |union of tiles - union of previous tiles|
  (an instance needs words only a neighbour held); "delta-overlap": at some sliding step the
  members' different new words overlap;
- "outer": a loop that ``split_outer`` splits exists.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import prod

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import Mapping, full_order, keeps
from loopnest.workload.problem import ROLES, Problem

Point = tuple[int, ...]


@dataclass(frozen=True)
class Loop:
    level: int
    spatial: bool
    dim: int
    bound: int
    axis: int = -1  # a spatial loop's fanout axis: 0 X, 1 Y


def nest_of(problem: Problem, mapping: Mapping) -> list[Loop]:
    """The loops of bound > 1, outer -> inner."""
    dims = problem.dim_names
    loops = []
    for l, lm in enumerate(mapping.levels):
        loops += [Loop(l, False, dims.index(d), lm.temporal.get(d, 1)) for d in full_order(lm, problem)]
        loops += [Loop(l, True, dims.index(d), f, a) for a, part in enumerate((lm.spatial_x, lm.spatial_y))
                  for d, f in part.items()]
    return [lp for lp in loops if lp.bound > 1]


def hull(points: set[Point]) -> set[Point]:
    """Every point of the axis-aligned bounding box of ``points``."""
    if not points:
        return set()
    return set(itertools.product(*[range(min(c), max(c) + 1) for c in zip(*points)]))


def shifted(points: set[Point], by: Point) -> set[Point]:
    return {tuple(a + b for a, b in zip(q, by)) for q in points}


class Simulator:
    """Counts of one mapping: arrays (L, 3) indexed [level, role in ROLES order]."""

    def __init__(self, problem: Problem, arch: Architecture, mapping: Mapping,
                 halo: bool = False, split_outer: bool = False):
        self.halo, self.split_outer = halo, split_outer
        self.loops = nest_of(problem, mapping)
        self.D, self.L = len(problem.dims), len(arch.levels)
        self.sizes = [problem.dims[d] for d in problem.dim_names]
        # the amount a loop's index adds to its dimension's value: the bounds of the loops inside it
        self.weight = [prod(q.bound for q in self.loops[i + 1:] if q.dim == lp.dim) for i, lp in enumerate(self.loops)]
        keep = [[r in keeps(lm, lv.keeps) for r in ROLES] for lv, lm in zip(arch.levels, mapping.levels)]
        self.fanouts = [lv.fanout for lv in arch.levels]
        self.reads = np.zeros((self.L, 3), np.int64)
        self.fills = np.zeros_like(self.reads)
        self.updates = np.zeros_like(self.reads)
        self.hazards: set[tuple[str, int, int, str]] = set()
        names = problem.dim_names
        for t, role in enumerate(ROLES):
            tensor = problem.tensor(role)
            self.coef = [[ix.get(d, 0) for d in names] for ix in tensor.indices]
            self.relevant = {names.index(d) for d in tensor.dims()}
            self.mixed_axes = [a for a, ix in enumerate(tensor.indices) if len(ix) > 1]
            self.mixed_dims = sorted({names.index(d) for a in self.mixed_axes for d in tensor.indices[a]})
            for c in range(1, self.L + 1):
                parents = [p for p in range(c) if keep[p][t]]
                if (c == self.L or keep[c][t]) and parents:
                    self._pair(t, parents[-1], c)

    def _point(self, v: list[int]) -> Point:
        return tuple(sum(k * x for k, x in zip(row, v)) for row in self.coef)

    def _dimval(self, idx, loops: list[int]) -> list[int]:
        v = [0] * self.D
        for i, li in zip(idx, loops):
            v[self.loops[li].dim] += i * self.weight[li]
        return v

    def _space(self, loops: list[int]):
        return itertools.product(*[range(self.loops[i].bound) for i in loops])

    def _pair(self, t: int, p: int, c: int) -> None:
        """Words from parent keeper ``p`` to consumer ``c`` (``L`` = the MACs) for tensor ``t``."""
        is_out, is_mac, role = t == 2, c == self.L, ROLES[t]
        # does the fanout axis of spatial loop i share this tensor (multicast an operand, reduce outputs)?
        shares = lambda i: self.fanouts[self.loops[i].level].shares(role)[self.loops[i].axis]
        steps = [i for i, lp in enumerate(self.loops) if not lp.spatial and lp.level < c]
        insts = [i for i, lp in enumerate(self.loops) if lp.spatial and lp.level < c]
        inner = [i for i, lp in enumerate(self.loops) if lp.level >= c]
        # the tile at dimension value 0; dims -> tensor index is linear, so other tiles are shifts
        inner_vals = [self._dimval(ix, inner) for ix in self._space(inner)]
        rel = {self._point(v) for v in inner_vals}
        rel = hull(rel) if self.halo else rel
        top = [max(v[d] for v in inner_vals) for d in range(self.D)]  # the largest offset inside a tile
        rel_dims = {tuple(v[d] for d in self.mixed_dims) for v in inner_vals}
        rel_pos = [k for k, i in enumerate(steps) if self.loops[i].dim in self.relevant]
        innermost_rel = rel_pos[-1] if rel_pos else -1
        # an instance is its spatial indices; its group key: indices above p and of non-sharing fanouts
        lvl = [self.loops[i].level for i in insts]
        key_at = [k for k, (i, l) in enumerate(zip(insts, lvl)) if l < p or not shares(i)]
        n_parent = sum(l < p for l in lvl)  # key_at lists these first (the nest is level-ordered)
        last_rel = steps[innermost_rel] if innermost_rel >= 0 and not is_mac else -1
        outer = [k for k, i in enumerate(insts) if k not in key_at and i < last_rel and self.loops[i].dim in self.relevant]
        if outer:
            self.hazards.add(("outer", p, c, role))
        split_at = sorted(key_at + outer) if self.split_outer else key_at
        inst_list = list(self._space(insts))
        inst_vals = [self._dimval(s, insts) for s in inst_list]
        keys = [tuple(s[k] for k in key_at) for s in inst_list]
        split = [tuple(s[k] for k in split_at) for s in inst_list]
        where = (p, c, role)
        self._classify(rel, rel_dims, inst_vals, split, where)
        prev_tile: dict[int, set] = {}
        prev_union: dict[tuple, set] = {}
        seen_inst: dict[int, set] = {}  # distinct elements ever fetched, per instance / group / parent
        seen_group: dict[tuple, set] = {}
        seen_parent: dict[tuple, set] = {}
        own = shared = 0
        prev: dict[int, tuple] = {}  # per instance: its previous step with work
        for idx in self._space(steps):
            base = self._dimval(idx, steps)
            fetched: dict[tuple, set] = {}  # per counting group: the union of its members' fetches
            union: dict[tuple, set] = {}  # per counting group: the union of its members' tiles
            distinct_fetches: dict[tuple, set] = {}  # per counting group: its members' different fetches
            clipped = False
            for n, (v, gk, sk) in enumerate(zip(inst_vals, keys, split)):
                start = [a + b for a, b in zip(base, v)]
                clipped |= any(x + m >= size for x, m, size in zip(start, top, self.sizes))
                if any(x >= size for x, size in zip(start, self.sizes)):
                    continue  # a remainder tile's empty chunk: the instance idles
                if n not in prev or is_mac:
                    kind = "whole"
                else:
                    changed = next(k for k in range(len(idx)) if idx[k] != prev[n][k])
                    kind = "whole" if changed < innermost_rel else "delta" if changed == innermost_rel else "none"
                prev[n] = idx
                if all(x + m < size for x, m, size in zip(start, top, self.sizes)):
                    tile = shifted(rel, self._point(start))
                else:  # cut at the sizes
                    tile = {self._point([x + u for x, u in zip(start, uv)]) for uv in inner_vals
                            if all(x + u < size for x, u, size in zip(start, uv, self.sizes))}
                    if self._gaps(tile):
                        self.hazards.add(("gappy",) + where)
                    tile = hull(tile) if self.halo else tile
                fetch = tile if kind == "whole" else tile - prev_tile[n] if kind == "delta" else set()
                prev_tile[n] = tile
                own += len(fetch)
                seen_inst.setdefault(n, set()).update(fetch)
                seen_group.setdefault(gk, set()).update(fetch)
                seen_parent.setdefault(gk[:n_parent], set()).update(fetch)
                fetched.setdefault(sk, set()).update(fetch)
                union.setdefault(sk, set()).update(tile)
                distinct_fetches.setdefault(sk, set()).add(frozenset(fetch))
            for sk, u in union.items():
                prev_union.setdefault(sk, set())
                if clipped and self._gaps(u):  # a cut union may have gaps its full form has not
                    self.hazards.add(("gappy",) + where)
                by_tile = u if kind == "whole" else u - prev_union[sk] if kind == "delta" else set()
                if len(by_tile) != len(fetched[sk]):
                    self.hazards.add(("delta",) + where)
                if kind == "delta" and sum(map(len, distinct_fetches[sk])) != len(fetched[sk]):
                    self.hazards.add(("delta-overlap",) + where)
                prev_union[sk] = u
                shared += len(fetched[sk])
        distinct = lambda seen: sum(len(s) for s in seen.values())
        if is_out:  # the distinct outputs written per parent / group / instance: gaps, or not a box
            if any(self._gaps(done) for seen in (seen_parent, seen_group, seen_inst) for done in seen.values()):
                self.hazards.add(("gappy",) + where)
            grouped = [insts[k] for k in range(len(insts)) if k not in key_at]
            for free in ([i for i, l in zip(insts, lvl) if l >= p], grouped, []):
                reach = self._footprint(steps + inner + free)
                if reach != hull(reach):
                    self.hazards.add(("strided",) + where)
        if not is_out:
            self.reads[p, t] += shared
            if not is_mac:
                self.fills[c, t] += own
        elif is_mac:
            self.updates[p, t] += shared
            self.reads[p, t] += shared - distinct(seen_parent)
        else:
            self.updates[p, t] += shared
            self.reads[p, t] += shared - distinct(seen_parent)
            self.fills[c, t] += own - distinct(seen_inst)

    def _footprint(self, loops: list[int]) -> set[Point]:
        """Values of the mixed dimensions that ``loops`` reach (the other loops held at 0)."""
        reach = {(0,) * len(self.mixed_dims)}
        for i in loops:
            lp = self.loops[i]
            if lp.dim in self.mixed_dims:
                k = self.mixed_dims.index(lp.dim)
                reach = {r[:k] + (r[k] + j * self.weight[i],) + r[k + 1:] for r in reach for j in range(lp.bound)}
        return reach

    def _gaps(self, points: set[Point]) -> list[int]:
        """The axes that mix dimensions on which ``points`` take values that are not an interval."""
        out = []
        for a in self.mixed_axes:
            vals = {q[a] for q in points}
            if vals and len(vals) != max(vals) - min(vals) + 1:
                out.append(a)
        return out

    def _classify(self, rel: set, rel_dims: set, inst_vals: list, keys: list, where: tuple) -> None:
        """Hazards of the tile and of each group's union (the same at every step, up to a shift)."""
        if self._gaps(rel):
            self.hazards.add(("gappy",) + where)
        groups: dict[tuple, list] = {}
        for v, gk in zip(inst_vals, keys):
            groups.setdefault(gk, []).append(v)
        for members in groups.values():
            if len(members) < 2 or not self.mixed_axes:
                continue
            union = {q for v in members for q in shifted(rel, self._point(v))}
            if self._gaps(union):
                self.hazards.add(("gappy",) + where)
            in_dims = {q for v in members for q in shifted(rel_dims, tuple(v[d] for d in self.mixed_dims))}
            if in_dims != hull(in_dims):
                self.hazards.add(("strided",) + where)
                if len(union) < len(members) * len(rel):
                    self.hazards.add(("strided-overlap",) + where)
