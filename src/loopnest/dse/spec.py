"""Sweep specs: a base architecture, parameter axes addressed by path, workloads, mapper settings.

A spec is YAML data (read through ``loopnest.datafile``), validated on load; every error is one
``SweepSpecError`` line naming the file and the field. Example::

    name: glb-size
    base: eyeriss                     # a preset name or an architecture file (relative to the spec)
    axes:
      - path: levels.GlobalBuffer.capacity_words
        values: [8192, 16384, 32768]
      - {path: levels.GlobalBuffer.fanout.x, name: side, values: [8, 16]}
    derived: [{path: levels.GlobalBuffer.fanout.y, value: side}]      # safe arithmetic over axis names
    constraints: [{value: area_um2, max: 12.0e6}]                     # and area_um2: the point's area
    workloads: [{model: alexnet, batch: 1}]
    mapper: {mode: auto, objective: energy, dataflow: rs}
    sampling: {method: grid}          # or {method: random, points: 20, seed: 1}

Axis paths address a field of the base architecture's data: dotted field names, with a storage
level picked by its name or index (``levels.GlobalBuffer.fanout.x``, ``levels[1].capacity_words``)
or every level at once with ``*`` (``levels.*.word_bits``); one entry of ``partitions`` or
``energy_pj`` (``levels.RF.partitions.weights``); ``compute.operand_bits``,
``clock_mhz`` and other top-level fields likewise. A path must end on a field of the spec's
models (``loopnest.arch.spec``); a missing intermediate mapping (a level without ``fanout``) is
created. Values replace the field as written, so expressions (``"64 * 1024 / 2"``) are allowed.
Derived values and constraints are expressions over the named axes (``loopnest.arch.expr``, never
``eval``); a constraint may also use ``area_um2``, the point's area from the arch area model.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loopnest.arch.expr import ExprError, safe_eval
from loopnest.arch.loader import ArchSpecError, list_presets, preset_path, read_spec
from loopnest.arch.pim import PimArray
from loopnest.arch.spec import ACTIONS, Architecture, Compute, Fanout, Storage
from loopnest.datafile import DataFileError, field_path, read_yaml
from loopnest.names import plain
from loopnest.workload.problem import ROLES

Scalar = int | float | str | bool


class SweepSpecError(ValueError):
    """A sweep spec that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Axis(_Strict):
    path: str = Field(min_length=1)
    values: tuple[Scalar, ...]
    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="the axis's value in derived and constraint expressions")

    @field_validator("values")
    @classmethod
    def _not_empty(cls, v: tuple) -> tuple:
        if not v:
            raise ValueError("empty axis: give at least one value")
        return v


class Workload(_Strict):
    model: str = Field(min_length=1, description="a zoo name (loopnest workload list)")
    batch: int = Field(default=1, ge=1)


class Mapper(_Strict):
    mode: Literal["exact", "heuristic", "auto"] = "auto"
    objective: str = "energy"
    dataflow: str | None = Field(default=None, description="a dataflow preset, 'none', or null: the architecture's own")
    seed: int = 0
    remainder_folds: bool = Field(default=False, description="also search partial last folds on the fanouts that are "
                                  "not systolic (loopnest evaluate --remainder-folds; off as search.mapper.REMAINDER_FOLDS)")


class Sampling(_Strict):
    method: Literal["grid", "random", "optuna"] = "grid"
    points: int | None = Field(default=None, ge=1, description="random, optuna: how many distinct grid points")
    seed: int = 0
    batch: int = Field(default=1, ge=1, description="optuna: points proposed before their results are told")


class Derived(_Strict):
    path: str = Field(min_length=1)
    value: str | int | float = Field(description="arithmetic over the axis names, e.g. 'side' or '2 * kb * 512'")


class Constraint(_Strict):
    value: str = Field(min_length=1, description="arithmetic over the axis names and area_um2 (the point's area)")
    min: float | None = None
    max: float | None = None


class SweepSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    base: str = Field(min_length=1, description="a preset name or an architecture file")
    table: str | None = Field(default=None, description="energy table used to resolve every point")
    axes: tuple[Axis, ...] = ()
    derived: tuple[Derived, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    workloads: tuple[Workload, ...] = Field(min_length=1)
    mapper: Mapper = Mapper()
    sampling: Sampling = Sampling()


_SECTIONS = {"axes": Axis, "derived": Derived, "constraints": Constraint, "workloads": Workload, "mapper": Mapper,
             "sampling": Sampling}
AREA = "area_um2"  # the name of the point's area (arch area model, um^2) in constraint expressions
_FIELD_MODELS = {"levels": Storage, "compute": Compute, "fanout": Fanout, "pim": PimArray}
_DICT_KEYS = {"partitions": ROLES, "energy_pj": ACTIONS}  # mappings whose entries a path may address
_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def _fields(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _split(path: str) -> list[str]:
    """``levels[1].x`` -> ``['levels', '1', 'x']``."""
    parts: list[str] = []
    for seg in path.split("."):
        m = _INDEX.match(seg)
        parts += [m.group(1), m.group(2)] if m else [seg]
    return parts


def check_path(path: str, base: dict) -> None:
    """Raise ``ValueError`` naming what is valid if ``path`` addresses no field of ``base``."""
    parts = _split(path)
    model: type[BaseModel] = Architecture
    i = 0
    while i < len(parts):
        seg = parts[i]
        allowed = _fields(model)
        if seg not in allowed:
            raise ValueError(f"{path!r}: no field {seg!r} here; valid fields: {plain(allowed)}")
        if seg == "levels":
            names = [lv.get("name") for lv in base.get("levels", []) if isinstance(lv, dict)]
            if i + 1 >= len(parts):
                raise ValueError(f"{path!r}: name a level (by name, index or '*'): levels are {plain(names)}")
            pick = parts[i + 1]
            if pick != "*" and pick not in names and not (pick.isdigit() and int(pick) < len(names)):
                raise ValueError(f"{path!r}: no level {pick!r}; levels are {plain(names)} (or an index, or '*')")
            i += 2
            model = Storage
            if i >= len(parts):
                raise ValueError(f"{path!r}: name a field of the level; valid fields: {plain(_fields(Storage))}")
            continue
        if seg in _FIELD_MODELS and i + 1 < len(parts):
            model = _FIELD_MODELS[seg]
            i += 1
            continue
        if seg in _DICT_KEYS and i + 2 == len(parts):
            if parts[i + 1] not in _DICT_KEYS[seg]:
                raise ValueError(f"{path!r}: no key {parts[i + 1]!r} in {seg!r}; valid keys: {plain(_DICT_KEYS[seg])}")
            return
        if i + 1 < len(parts):
            raise ValueError(f"{path!r}: {seg!r} is a plain field, it has no {parts[i + 1]!r}")
        if seg in _FIELD_MODELS:
            raise ValueError(f"{path!r}: name a field inside {seg!r}; valid fields: {plain(_fields(_FIELD_MODELS[seg]))}")
        return
    raise ValueError(f"{path!r}: empty path")


def apply(base: dict, values: dict[str, Any]) -> dict:
    """A deep copy of ``base`` with each path set to its value (paths already checked)."""
    data = copy.deepcopy(base)
    for path, value in values.items():
        _set(data, _split(path), value)
    return data


def _set(node: dict, parts: list[str], value: Any) -> None:
    seg, rest = parts[0], parts[1:]
    if seg == "levels":
        levels = node["levels"]
        pick = rest[0]
        if pick == "*":
            targets = [lv for lv in levels]
        elif pick.isdigit() and not any(lv.get("name") == pick for lv in levels):
            targets = [levels[int(pick)]]
        else:
            targets = [lv for lv in levels if lv.get("name") == pick]
        for lv in targets:
            _set(lv, rest[1:], value)
        return
    if not rest:
        node[seg] = value
        return
    child = node.get(seg)
    if not isinstance(child, dict):
        child = node[seg] = {}
    _set(child, rest, value)


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict]:
    """The validated spec and its base architecture's data (``base`` chain merged)."""
    path = Path(path)
    try:
        data = read_yaml(path)
    except DataFileError as e:
        raise SweepSpecError(str(e)) from None
    return parse_sweep(data, path)


def parse_sweep(data: Any, path: Path) -> tuple[SweepSpec, dict]:
    if not isinstance(data, dict):
        raise SweepSpecError(f"{path}: a sweep spec must be a mapping of fields (name, base, axes, workloads, ...), got {type(data).__name__}")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo: say so first
        where = field_path(tuple(err["loc"]), data)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            owner = _SECTIONS.get(next((k for k in err["loc"][:-1] if isinstance(k, str)), None), SweepSpec)
            msg = f"unknown field; allowed fields here: {_fields(owner)}"
        elif err["type"] == "missing":
            msg = "required field is missing"
        raise SweepSpecError(f"{path}: {where}: {msg}") from None
    rel = path.parent / spec.base
    file = rel if rel.is_file() else preset_path(spec.base)
    if not file.is_file():
        raise SweepSpecError(f"{path}: base: {spec.base!r} is no file next to the spec and no preset; presets are {plain(list_presets())}")
    try:
        base = read_spec(file)
    except ArchSpecError as e:
        raise SweepSpecError(f"{path}: base: {e}") from None
    seen: set[str] = set()
    for i, axis in enumerate(spec.axes):
        _claim_path(axis.path, f"axes[{i}]", "is swept twice", base, path, seen)
    _check_names(spec, base, path, seen)
    _check_workloads(spec, path)
    _check_mapper(spec, path)
    if spec.sampling.method != "grid" and spec.sampling.points is None:
        raise SweepSpecError(f"{path}: sampling.points: {spec.sampling.method} sampling needs the number of points")
    if spec.derived or spec.constraints:
        try:
            points(spec, base)  # every expression computes at every point, and some point is admitted
        except PointsError as e:
            raise SweepSpecError(f"{path}: {e}") from None
    return spec, base


def _claim_path(target: str, where: str, taken: str, base: dict, path: Path, seen: set[str]) -> None:
    """``target`` (the field ``where``.path) names a field of ``base`` that nothing else sets yet;
    it is added to ``seen``. One error line otherwise (``taken``: what a second setter is told)."""
    try:
        check_path(target, base)
    except ValueError as e:
        raise SweepSpecError(f"{path}: {where}.path: {e}") from None
    if target in seen:
        raise SweepSpecError(f"{path}: {where}.path: {target!r} {taken}")
    seen.add(target)


def _check_names(spec: SweepSpec, base: dict, path: Path, seen: set[str]) -> None:
    """Axis names unique; derived paths valid and not swept; each constraint bounded."""
    names: set[str] = set()
    for i, axis in enumerate(spec.axes):
        if axis.name is not None:
            if axis.name == AREA or axis.name in names:
                raise SweepSpecError(f"{path}: axes[{i}].name: {axis.name!r} is " + ("reserved (the point's area)" if axis.name == AREA else "used twice"))
            names.add(axis.name)
    for i, d in enumerate(spec.derived):
        _claim_path(d.path, f"derived[{i}]", "is already set by an axis or an earlier derived value", base, path, seen)
    for i, c in enumerate(spec.constraints):
        if c.min is None and c.max is None:
            raise SweepSpecError(f"{path}: constraints[{i}]: give min, max or both")
        if c.min is not None and c.max is not None and c.min > c.max:
            raise SweepSpecError(f"{path}: constraints[{i}]: min {c.min:g} is above max {c.max:g}")


def _check_workloads(spec: SweepSpec, path: Path) -> None:
    from loopnest.workload.zoo import find_model, list_models

    for i, w in enumerate(spec.workloads):
        if find_model(w.model) is None:
            raise SweepSpecError(f"{path}: workloads[{i}].model: unknown model {w.model!r}; available: {', '.join(list_models())}")


def _check_mapper(spec: SweepSpec, path: Path) -> None:
    from loopnest.mapping.dataflows import DATAFLOWS
    from loopnest.search.objective import Objective, ObjectiveError

    try:
        Objective.parse(spec.mapper.objective)
    except ObjectiveError as e:
        raise SweepSpecError(f"{path}: mapper.objective: {e}") from None
    df = spec.mapper.dataflow
    if df is not None and df.lower() != "none" and df.lower() not in DATAFLOWS:
        raise SweepSpecError(f"{path}: mapper.dataflow: unknown dataflow {df!r}; valid: {', '.join(DATAFLOWS)}, none")


def grid_size(spec: SweepSpec) -> int:
    return math.prod(len(a.values) for a in spec.axes)


class PointsError(ValueError):
    """A derived value or constraint that cannot be computed, or constraints no point satisfies;
    the message starts with the field (``derived[0].value: ...``)."""


def _named(spec: SweepSpec, values: dict[str, Scalar]) -> dict[str, int | float]:
    """The named axes' numeric values at one point (expression strings evaluated)."""
    out = {}
    for i, a in enumerate(spec.axes):
        if a.name is None:
            continue
        v = values[a.path]
        try:
            v = safe_eval(v) if isinstance(v, str) else v
        except ExprError as e:
            raise PointsError(f"axes[{i}].values: {a.name} = {v!r} is used in an expression but is no number ({e})") from None
        if isinstance(v, bool):
            raise PointsError(f"axes[{i}].values: {a.name} = {v!r} is used in an expression but is no number")
        out[a.name] = v
    return out


def _derive(spec: SweepSpec, values: dict[str, Scalar]) -> tuple[dict[str, Scalar], dict[str, int | float]]:
    """The point's paths with the derived ones added, and the names of its expressions."""
    names = _named(spec, values)
    out = dict(values)
    for i, d in enumerate(spec.derived):
        try:
            out[d.path] = safe_eval(d.value, names) if isinstance(d.value, str) else d.value
        except ExprError as e:
            raise PointsError(f"derived[{i}].value: {e} (at {values})") from None
    return out, names


def _area(spec: SweepSpec, base: dict, values: dict[str, Scalar]) -> float | None:
    """The point's area (um^2, the arch area model); None if its architecture is invalid (such a
    point is kept: it is recorded as invalid with its reason)."""
    from loopnest.arch.loader import parse_arch

    try:
        return parse_arch(apply(base, values), source="architecture", table=spec.table).total_area_um2
    except ArchSpecError:
        return None


def _constraint_values(spec: SweepSpec, base: dict, values: dict, names: dict) -> list[float | None]:
    area = _area(spec, base, values) if any(AREA in c.value for c in spec.constraints) else None
    out = []
    for i, c in enumerate(spec.constraints):
        if AREA in c.value and area is None:
            out.append(None)
            continue
        try:
            out.append(float(safe_eval(c.value, names | ({AREA: area} if area is not None else {}))))
        except ExprError as e:
            raise PointsError(f"constraints[{i}].value: {e} (at {values})") from None
    return out


def _feasible(spec: SweepSpec, base: dict, grid: list[dict]) -> list[dict]:
    """The grid points with their derived paths, those that every constraint admits."""
    out, seen = [], [[] for _ in spec.constraints]
    for values in grid:
        full, names = _derive(spec, values)
        vals = _constraint_values(spec, base, full, names)
        for s, v in zip(seen, vals):
            if v is not None:
                s.append(v)
        if all(v is None or ((c.min is None or v >= c.min) and (c.max is None or v <= c.max))
               for c, v in zip(spec.constraints, vals)):
            out.append(full)
    if not out:
        ranges = "; ".join(f"constraints[{i}] {c.value!r} is {min(s):.6g} to {max(s):.6g}, allowed "
                           f"[{'-inf' if c.min is None else f'{c.min:.6g}'}, {'inf' if c.max is None else f'{c.max:.6g}'}]"
                           for i, (c, s) in enumerate(zip(spec.constraints, seen)) if s)
        raise PointsError(f"constraints: no point of the {len(grid)}-point grid satisfies them all; over the grid {ranges}")
    return out


def points(spec: SweepSpec, base: dict | None = None) -> list[dict[str, Scalar]]:
    """The architecture points, in sweep order: {path: value} with the derived paths, of the full
    grid (last axis fastest) less the points a constraint excludes, or a seeded random sample of
    distinct such points (in grid order); for the optuna method, every such point (the optimizer
    picks among them). ``base`` is needed only by area constraints."""
    grid = [dict(zip((a.path for a in spec.axes), combo)) for combo in itertools.product(*(a.values for a in spec.axes))]
    if spec.derived or spec.constraints:
        grid = _feasible(spec, base or {}, grid)
    if spec.sampling.method != "random":
        return grid  # optuna draws from these as it goes (loopnest.dse.optimize)
    import numpy as np

    n = min(spec.sampling.points, len(grid))
    picks = np.sort(np.random.default_rng(spec.sampling.seed).choice(len(grid), size=n, replace=False))
    return [grid[i] for i in picks.tolist()]
