"""Mapspace constraints, written in the mapping syntax so users can fix some loops and search the rest.

A constraint file has the layout of a mapping file (levels outer -> inner; levels not listed
are free)::

    constraints:
      - level: RF
        temporal: {S: all, R: 1, P: 1, C: "<=4"}  # exact, "all" (the whole dimension), "<=n", ">=n", "*"
        order: [C, Q]                             # C above Q (outer -> inner); other loops anywhere
        keep: [inputs, weights, outputs]          # exactly these tensors stay here (the others bypass)
      - level: GlobalBuffer
        spatial: {x: {P: "*", N: "*"}, y: {R: all, C: "*"}}  # only these dimensions on that axis
        min_usage: 0.5                            # use at least half of the fanout's x * y instances

Dimension names not in a layer are ignored for that layer (one constraint set serves a whole
network). ``K`` is accepted as an alias of ``M``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as TMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopnest.datafile import DataFileError, excerpt, read_yaml
from loopnest.names import did_you_mean, plain
from loopnest.workload.problem import ROLES, Role

ALIASES = {"K": "M"}
_LEVEL_KEYS = {"level", "temporal", "order", "spatial", "keep", "min_usage"}
_RULE = re.compile(r"^\s*(<=|>=)\s*(\d+)\s*$")


class ConstraintError(ValueError):
    """A constraint that is malformed or names something that does not exist."""


@dataclass(frozen=True)
class FactorRule:
    """Allowed values of one loop factor: ``lo <= f <= hi``; ``full`` means f = the dimension size."""

    lo: int = 1
    hi: int | None = None
    full: bool = False

    def bounds(self, size: int) -> tuple[int, int]:
        if self.full:
            return size, size
        return self.lo, size if self.hi is None else min(self.hi, size)

    def meet(self, other: FactorRule) -> FactorRule:
        hi = self.hi if other.hi is None else other.hi if self.hi is None else min(self.hi, other.hi)
        return FactorRule(max(self.lo, other.lo), hi, self.full or other.full)

    @staticmethod
    def parse(value: Any, where: str) -> FactorRule:
        if isinstance(value, bool):
            raise ConstraintError(f"{where}: factor {excerpt(value)} is not allowed; use an integer, 'all', '<=n', '>=n' or '*'")
        if isinstance(value, int):
            if value < 1:
                raise ConstraintError(f"{where}: factor must be >= 1, got {value}")
            return FactorRule(value, value)
        if isinstance(value, str):
            v = value.strip()
            if v in ("*", "any"):
                return FactorRule()
            if v == "all":
                return FactorRule(full=True)
            m = _RULE.match(v)
            if m and int(m.group(2)) >= 1:
                n = int(m.group(2))
                return FactorRule(hi=n) if m.group(1) == "<=" else FactorRule(lo=n)
        raise ConstraintError(f"{where}: factor {excerpt(value)} is not allowed; use an integer, 'all', '<=n', '>=n' or '*'")


@dataclass(frozen=True)
class LevelConstraint:
    """Constraints on one storage level. ``spatial_x``/``spatial_y`` None: any dimension may go
    on that axis; a dict: only its dimensions may (each with its rule)."""

    temporal: TMapping[str, FactorRule] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # a partial order: these loops appear in this relative order, outer -> inner
    spatial_x: TMapping[str, FactorRule] | None = None
    spatial_y: TMapping[str, FactorRule] | None = None
    keep: frozenset[Role] | None = None
    min_usage: float | None = None  # the least fraction of the level's fanout instances a mapping uses

    def meet(self, other: LevelConstraint, level: str) -> LevelConstraint:
        """Both constraints at once (a dataflow preset and a user file)."""
        if self.order and other.order and self.order != other.order:
            raise ConstraintError(f"level {level}: conflicting loop orders ({plain(self.order)}) and ({plain(other.order)})")
        if self.keep is not None and other.keep is not None and self.keep != other.keep:
            raise ConstraintError(f"level {level}: conflicting keep ({plain(sorted(self.keep))}) and ({plain(sorted(other.keep))})")
        return LevelConstraint(
            temporal=_meet_rules(self.temporal, other.temporal),
            order=self.order or other.order,
            spatial_x=_meet_axis(self.spatial_x, other.spatial_x),
            spatial_y=_meet_axis(self.spatial_y, other.spatial_y),
            keep=self.keep if self.keep is not None else other.keep,
            min_usage=max((u for u in (self.min_usage, other.min_usage) if u is not None), default=None),
        )


def _meet_rules(a: TMapping[str, FactorRule], b: TMapping[str, FactorRule]) -> dict[str, FactorRule]:
    out = dict(a)
    for d, r in b.items():
        out[d] = out[d].meet(r) if d in out else r
    return out


def _meet_axis(a, b):
    if a is None or b is None:
        return b if a is None else a
    return {d: a[d].meet(b[d]) for d in a if d in b}


@dataclass(frozen=True)
class Constraints:
    """Per-level constraints keyed by level name (levels not named are unconstrained)."""

    levels: TMapping[str, LevelConstraint] = field(default_factory=dict)
    source: str = "constraints"

    def at(self, level: str) -> LevelConstraint:
        return self.levels.get(level, LevelConstraint())

    def meet(self, other: Constraints) -> Constraints:
        names = list(self.levels) + [n for n in other.levels if n not in self.levels]
        merged = {n: self.at(n).meet(other.at(n), n) for n in names}
        return Constraints(merged, f"{self.source} + {other.source}")

    def check_levels(self, level_names: tuple[str, ...]) -> None:
        unknown = [n for n in self.levels if n not in level_names]
        if unknown:
            raise ConstraintError(f"{self.source}: unknown level(s) {plain(unknown)}{did_you_mean(unknown[0], level_names)}; "
                                  f"the architecture's levels are {plain(level_names)}")


def _dim(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise ConstraintError(f"{where}: dimension names must be strings, got {excerpt(name)}")
    return ALIASES.get(name, name)


def _rules(value: Any, where: str) -> dict[str, FactorRule]:
    if not isinstance(value, dict):
        raise ConstraintError(f"{where}: expected a mapping dimension -> factor, got {type(value).__name__}")
    return {_dim(d, where): FactorRule.parse(v, f"{where}.{d}") for d, v in value.items()}


def parse_constraints(data: Any, source: str = "constraints") -> Constraints:
    """Constraints from plain data (a list of level entries in the mapping syntax)."""
    if not isinstance(data, list):
        raise ConstraintError(f"{source}: expected a list of level entries (- level: NAME ...), got {type(data).__name__}")
    levels: dict[str, LevelConstraint] = {}
    for i, entry in enumerate(data):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("level"), str):
            raise ConstraintError(f"{where}: each entry needs 'level: NAME'")
        extra = set(entry) - _LEVEL_KEYS
        if extra:
            raise ConstraintError(f"{where} (level {entry['level']}): unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(_LEVEL_KEYS))}")
        name = entry["level"]
        where = f"{source}: level {name}"
        order = entry.get("order", [])
        if not isinstance(order, list):
            raise ConstraintError(f"{where}.order: expected a list of dimensions (outer -> inner)")
        order = tuple(_dim(d, f"{where}.order") for d in order)
        if len(set(order)) != len(order):
            raise ConstraintError(f"{where}.order: dimensions repeat in {plain(order)}")
        sx = sy = None
        if "spatial" in entry:
            sp = entry["spatial"]
            if not isinstance(sp, dict) or set(sp) - {"x", "y"}:
                raise ConstraintError(f"{where}.spatial: expected {{x: {{dim: factor}}, y: {{dim: factor}}}}")
            sx = _rules(sp["x"] or {}, f"{where}.spatial.x") if "x" in sp else None
            sy = _rules(sp["y"] or {}, f"{where}.spatial.y") if "y" in sp else None
        keep = None
        if "keep" in entry:
            k = entry["keep"]
            if not isinstance(k, list) or any(r not in ROLES for r in k):
                raise ConstraintError(f"{where}.keep: expected a list drawn from {plain(ROLES)}, got {excerpt(k)}")
            keep = frozenset(k)
        usage = entry.get("min_usage")
        if usage is not None and (isinstance(usage, bool) or not isinstance(usage, (int, float)) or not 0 < usage <= 1):
            raise ConstraintError(f"{where}.min_usage: expected a number in (0, 1], got {excerpt(usage)}")
        lc = LevelConstraint(_rules(entry.get("temporal", {}) or {}, f"{where}.temporal"), order, sx, sy, keep, usage)
        levels[name] = levels[name].meet(lc, name) if name in levels else lc
    return Constraints(levels, source)


def load_constraints(path: str | Path) -> Constraints:
    """Constraints from a YAML file (``constraints:`` then the level list; safe_load only)."""
    try:
        data = read_yaml(path)
    except DataFileError as e:
        raise ConstraintError(str(e)) from None
    if not isinstance(data, dict) or set(data) != {"constraints"}:
        raise ConstraintError(f"{path}: expected one top-level key 'constraints' holding the list of level entries")
    return parse_constraints(data["constraints"], str(path))
