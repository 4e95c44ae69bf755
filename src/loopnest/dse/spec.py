"""Sweep specs: a base architecture, parameter axes addressed by path, workloads, mapper settings.

A spec is YAML data (read through ``loopnest.datafile``), validated on load; every error is one
``SweepSpecError`` line naming the file and the field. Example::

    name: glb-size
    base: eyeriss                     # a preset name or an architecture file (relative to the spec)
    axes:
      - path: levels.GlobalBuffer.capacity_words
        values: [8192, 16384, 32768]
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
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loopnest.arch.loader import ArchSpecError, list_presets, preset_path, read_spec
from loopnest.arch.spec import ACTIONS, Architecture, Compute, Fanout, PimArray, Storage
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


class Sampling(_Strict):
    method: Literal["grid", "random"] = "grid"
    points: int | None = Field(default=None, ge=1, description="random: how many distinct grid points")
    seed: int = 0


class SweepSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    base: str = Field(min_length=1, description="a preset name or an architecture file")
    table: str | None = Field(default=None, description="energy table used to resolve every point")
    axes: tuple[Axis, ...] = ()
    workloads: tuple[Workload, ...] = Field(min_length=1)
    mapper: Mapper = Mapper()
    sampling: Sampling = Sampling()


_SECTIONS = {"axes": Axis, "workloads": Workload, "mapper": Mapper, "sampling": Sampling}
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
        raise SweepSpecError(f"{path}: base: {spec.base!r} is no file next to the spec and no preset; presets are {list_presets()}")
    try:
        base = read_spec(file)
    except ArchSpecError as e:
        raise SweepSpecError(f"{path}: base: {e}") from None
    seen = set()
    for i, axis in enumerate(spec.axes):
        try:
            check_path(axis.path, base)
        except ValueError as e:
            raise SweepSpecError(f"{path}: axes[{i}].path: {e}") from None
        if axis.path in seen:
            raise SweepSpecError(f"{path}: axes[{i}].path: {axis.path!r} is swept twice")
        seen.add(axis.path)
    _check_workloads(spec, path)
    _check_mapper(spec, path)
    if spec.sampling.method == "random" and spec.sampling.points is None:
        raise SweepSpecError(f"{path}: sampling.points: random sampling needs the number of points")
    return spec, base


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


def points(spec: SweepSpec) -> list[dict[str, Scalar]]:
    """The architecture points, in sweep order: the full grid (last axis fastest), or a seeded
    random sample of distinct grid points (in grid order)."""
    axes = spec.axes
    if spec.sampling.method == "grid":
        return [dict(zip((a.path for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]
    import numpy as np

    total = grid_size(spec)
    n = min(spec.sampling.points, total)
    picks = np.sort(np.random.default_rng(spec.sampling.seed).choice(total, size=n, replace=False))
    shape = tuple(len(a.values) for a in axes)
    out = []
    for flat in picks.tolist():
        idx = np.unravel_index(flat, shape) if shape else ()
        out.append({a.path: a.values[int(j)] for a, j in zip(axes, idx)})
    return out
