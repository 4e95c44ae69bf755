"""Mappings as data (YAML/JSON): parsed with yaml.safe_load, validated with errors that name the
file, the field and what is allowed.

Syntax (levels outer -> inner; a level not listed has no loops and keeps all it may hold)::

    mapping:
      - level: DRAM
        temporal: {M: 2, P: 4}
        order: [M, P]            # outer -> inner; unlisted dimensions go innermost
      - level: GlobalBuffer
        temporal: {C: 4}
        spatial: {x: {Q: 14}, y: {M: 12}}
        keep: [inputs, outputs]  # bypass the rest
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from loopnest.arch.spec import Architecture
from loopnest.datafile import excerpt, field_path, read_own_yaml
from loopnest.mapping.mapping import LevelMapping, Mapping, MappingError
from loopnest.names import did_you_mean
from loopnest.workload.problem import Role


class _Spatial(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: dict[str, PositiveInt] = Field(default_factory=dict)
    y: dict[str, PositiveInt] = Field(default_factory=dict)


class _Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str
    temporal: dict[str, PositiveInt] = Field(default_factory=dict)
    order: list[str] = Field(default_factory=list)
    spatial: _Spatial = Field(default_factory=_Spatial)
    keep: list[Role] | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mapping: list[_Level]


def parse_mapping(data: object, arch: Architecture, source: str = "<mapping>") -> Mapping:
    """Plain data -> Mapping aligned with ``arch.levels``."""
    if not isinstance(data, dict):
        got = "the file is empty" if data is None else f"got {type(data).__name__}"
        raise MappingError(f"{source}: {got}; a mapping file holds 'mapping:', a list with one entry per level "
                           "(level, temporal, order outer -> inner, ...)")
    try:
        spec = _File.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise MappingError(f"{source}: field {field_path(tuple(err['loc']), data)}: {err['msg']}") from None
    names = [lv.name for lv in arch.levels]
    by_level: dict[str, _Level] = {}
    for i, lv in enumerate(spec.mapping):
        if lv.level not in names:
            raise MappingError(f"{source}: field mapping[{i}].level: {excerpt(lv.level)} is not a level of {arch.name}{did_you_mean(str(lv.level), names)}; levels are {', '.join(names)}")
        if lv.level in by_level:
            raise MappingError(f"{source}: field mapping[{i}].level: {excerpt(lv.level)} appears twice")
        by_level[lv.level] = lv
    levels = []
    for name in names:
        lv = by_level.get(name, _Level(level=name))
        levels.append(LevelMapping(lv.temporal, tuple(lv.order), lv.spatial.x, lv.spatial.y,
                                   None if lv.keep is None else frozenset(lv.keep)))
    return Mapping(tuple(levels))


def load_mapping(path: str | Path, arch: Architecture) -> Mapping:
    data = read_own_yaml(path, MappingError)
    return parse_mapping(data, arch, str(path))
