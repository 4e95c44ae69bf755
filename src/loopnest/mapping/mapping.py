"""The mapping data type: per storage level, temporal loops (factors and order, outer -> inner),
the spatial unrolling on the fanout below the level (X and Y), and which tensors the level keeps.

Loop nest order, outer -> inner: level 0 temporal loops, level 0 spatial loops (its fanout),
level 1 temporal loops, level 1 spatial loops, ... . A level's tile spans its own temporal loops
and everything inside them.

Factorizations: the factors of a dimension over all levels multiply to its size (a perfect
split), or past it with remainder tiles (ceil tiles, the last one smaller): then dropping the last
iteration of the dimension's outermost loop must leave it uncovered (the padding is less than one
such iteration: 13 as 2 x 7 = 14 is padded by 1 < 7; 2 x 12 = 24 by 11 < 12), so that every outer
factor is needed. The model costs remainder tiles exactly (model/clipped.py), except on a dimension
unrolled on a systolic fanout (``fanout.systolic``), whose partial last fold is costed as the padded
layer (``padded_dims``), as SCALE-Sim runs a partial fold in a full fold's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Mapping as TMapping

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.names import plain
from loopnest.workload.problem import ROLES, Problem, Role


class MappingError(ValueError):
    """A mapping that does not fit the problem or the architecture."""


@dataclass(frozen=True)
class LevelMapping:
    """Loops of one storage level. ``order`` lists dimensions outer -> inner; dimensions not
    listed go innermost in problem order. ``keep`` None means every tensor the level may hold."""

    temporal: TMapping[str, int] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    spatial_x: TMapping[str, int] = field(default_factory=dict)
    spatial_y: TMapping[str, int] = field(default_factory=dict)
    keep: frozenset[Role] | None = None


@dataclass(frozen=True)
class Mapping:
    levels: tuple[LevelMapping, ...]

    def to_dict(self, arch: Architecture, problem: Problem) -> list[dict]:
        """Plain-data form (the YAML/JSON mapping syntax), one entry per level, outer -> inner."""
        out = []
        for lv, lm in zip(arch.levels, self.levels):
            order = full_order(lm, problem)
            entry: dict = {
                "level": lv.name,
                "temporal": {d: lm.temporal[d] for d in order if lm.temporal.get(d, 1) > 1},
                "order": [d for d in order if lm.temporal.get(d, 1) > 1],
                "keep": sorted(keeps(lm, lv.keeps), key=ROLES.index),
            }
            if lm.spatial_x or lm.spatial_y:
                entry["spatial"] = {"x": {d: f for d, f in lm.spatial_x.items() if f > 1},
                                    "y": {d: f for d, f in lm.spatial_y.items() if f > 1}}
            out.append(entry)
        return out


def full_order(lm: LevelMapping, problem: Problem) -> tuple[str, ...]:
    """The level's complete loop order, outer -> inner."""
    rest = tuple(d for d in problem.dim_names if d not in lm.order)
    return tuple(lm.order) + rest


def keeps(lm: LevelMapping, allowed: tuple[Role, ...]) -> frozenset[Role]:
    return frozenset(allowed) if lm.keep is None else lm.keep


def validate_structure(mapping: Mapping, problem: Problem, arch: Architecture) -> None:
    """Check factors, orders, spatial fits and bypass legality (capacity is checked by the model)."""
    if len(mapping.levels) != len(arch.levels):
        raise MappingError(f"mapping has {len(mapping.levels)} levels, architecture {arch.name!r} has {len(arch.levels)}")
    dims = problem.dims
    for lv, lm in zip(arch.levels, mapping.levels):
        for part, factors in (("temporal", lm.temporal), ("spatial.x", lm.spatial_x), ("spatial.y", lm.spatial_y)):
            for d, f in factors.items():
                if d not in dims:
                    raise MappingError(f"level {lv.name}: {part} names unknown dimension {d!r}; dimensions are {plain(dims)}")
                if not isinstance(f, (int, np.integer)) or f < 1:
                    raise MappingError(f"level {lv.name}: {part} factor of {d} must be a positive integer, got {f!r}")
        bad = [d for d in lm.order if d not in dims]
        if bad or len(set(lm.order)) != len(lm.order):
            raise MappingError(f"level {lv.name}: order ({plain(lm.order)}) must list distinct dimensions of {plain(dims)}")
        fan = lv.fanout
        fx, fy = prod(lm.spatial_x.values()), prod(lm.spatial_y.values())
        cap_x, cap_y = (fan.x, fan.y) if fan is not None else (1, 1)
        if fx > cap_x or fy > cap_y:
            raise MappingError(f"level {lv.name}: spatial {fx}x{fy} exceeds the fanout {cap_x}x{cap_y}")
        if fan is not None and fx * fy < fan.min_instances:
            raise MappingError(f"level {lv.name}: spatial {fx}x{fy} uses {fx * fy} of the fanout's {fan.size} instances, "
                               f"below its min_usage {fan.min_usage:g} (at least {fan.min_instances})")
        if lm.keep is not None and not lm.keep <= set(lv.keeps):
            raise MappingError(f"level {lv.name}: keeps {plain(sorted(lm.keep))} but may only hold {plain(lv.keeps)}")
    for d, n in padded_dims(mapping, problem, arch).items():
        if n != dims[d]:
            _check_partial_fold(mapping, arch, d, n, dims[d])
    for role in ROLES:
        if not any(role in keeps(lm, lv.keeps) for lv, lm in zip(arch.levels, mapping.levels)):
            raise MappingError(f"no level keeps {role}")


def padded_dims(mapping: Mapping, problem: Problem, arch: Architecture) -> dict[str, int]:
    """Each dimension's size as the mapping's factors cover it (the layer's own size, or more
    where a systolic array's last fold is partial)."""
    return {d: prod(lm.temporal.get(d, 1) * lm.spatial_x.get(d, 1) * lm.spatial_y.get(d, 1) for lm in mapping.levels)
            for d in problem.dims}


def _check_partial_fold(mapping: Mapping, arch: Architecture, d: str, got: int, n: int) -> None:
    """Factors of ``d`` multiply to ``got`` instead of its size ``n``: legal only past the size with
    the padding under one iteration of ``d``'s outermost loop (remainder tiles: every outer factor
    needed); raises MappingError otherwise."""
    loops = [f for lm in mapping.levels for f in (lm.temporal.get(d, 1), lm.spatial_x.get(d, 1), lm.spatial_y.get(d, 1)) if f > 1]
    if got > n and got - n < got // loops[0]:
        return
    why = "" if got < n else (f" (remainder tiles need padding under one iteration of its outermost loop, "
                              f"{got // loops[0]}: every outer factor needed)")
    raise MappingError(f"factors of {d} multiply to {got}, but the layer has {d}={n}{why}")


def remainder_refusal(problem: Problem, arch: Architecture) -> str | None:
    """Why remainder tiles cannot be costed exactly here (None: they can; model/clipped.py)."""
    if any(lv.fanout is not None and lv.fanout.systolic is not None for lv in arch.levels):
        return "a systolic fanout (its partial last fold is costed padded)"
    if arch.strided_windows == "positions":
        return "strided_windows: positions"
    if (any(t.density is not None and not t.density.is_dense for t in problem.tensors)
            or any(lv.sparse is not None for lv in arch.levels) or arch.compute.sparse is not None):
        return "sparsity"
    if any(len(ix) > 1 for ix in problem.output.indices):
        return f"outputs with a sliding window ({problem.name})"
    return None


@dataclass(frozen=True)
class MappingBatch:
    """B mappings of one layer as arrays (the model's input).

    temporal[b, l, d]: temporal factor of dim d at level l.
    perm[b, l, k]: index of the dim at loop position k (outer -> inner) of level l.
    spatial[b, l, a, d]: spatial factor of dim d on axis a (0 = X, 1 = Y) of level l's fanout.
    keep[b, l, t]: level l keeps tensor role t (ROLES order).
    """

    temporal: np.ndarray
    perm: np.ndarray
    spatial: np.ndarray
    keep: np.ndarray

    def __len__(self) -> int:
        return self.temporal.shape[0]

    def __getitem__(self, rows: slice | np.ndarray) -> "MappingBatch":
        """The mappings at ``rows`` (a slice or an index/mask array)."""
        return MappingBatch(self.temporal[rows], self.perm[rows], self.spatial[rows], self.keep[rows])

    @staticmethod
    def from_mappings(mappings: list[Mapping], problem: Problem, arch: Architecture) -> "MappingBatch":
        dims = problem.dim_names
        B, L, D = len(mappings), len(arch.levels), len(dims)
        temporal = np.ones((B, L, D), np.int64)
        perm = np.zeros((B, L, D), np.int64)
        spatial = np.ones((B, L, 2, D), np.int64)
        keep = np.zeros((B, L, len(ROLES)), bool)
        for b, m in enumerate(mappings):
            for l, (lv, lm) in enumerate(zip(arch.levels, m.levels)):
                for i, d in enumerate(dims):
                    temporal[b, l, i] = lm.temporal.get(d, 1)
                    spatial[b, l, 0, i] = lm.spatial_x.get(d, 1)
                    spatial[b, l, 1, i] = lm.spatial_y.get(d, 1)
                perm[b, l] = [dims.index(d) for d in full_order(lm, problem)]
                kept = keeps(lm, lv.keeps)
                keep[b, l] = [r in kept for r in ROLES]
        return MappingBatch(temporal, perm, spatial, keep)

    def mapping(self, b: int, problem: Problem) -> Mapping:
        """Row b back as a Mapping."""
        dims = problem.dim_names
        levels = []
        for l in range(self.temporal.shape[1]):
            levels.append(LevelMapping(
                temporal={d: int(self.temporal[b, l, i]) for i, d in enumerate(dims) if self.temporal[b, l, i] > 1},
                order=tuple(dims[i] for i in self.perm[b, l]),
                spatial_x={d: int(self.spatial[b, l, 0, i]) for i, d in enumerate(dims) if self.spatial[b, l, 0, i] > 1},
                spatial_y={d: int(self.spatial[b, l, 1, i]) for i, d in enumerate(dims) if self.spatial[b, l, 1, i] > 1},
                keep=frozenset(r for t, r in enumerate(ROLES) if self.keep[b, l, t]),
            ))
        return Mapping(tuple(levels))
