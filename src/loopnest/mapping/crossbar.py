"""A crossbar mapping as data: the choice ``model.crossbar.map_crossbar`` searches over (rows
used per array, groups packed per array, replication), so that ``loopnest model`` can cost one
given choice and ``loopnest evaluate --mappings`` can write the chosen ones.

File syntax (YAML)::

    crossbar: {rows_per_array: 128, groups_per_array: 1, replication: 1}
"""

from __future__ import annotations

from dataclasses import dataclass

from loopnest.datafile import excerpt
from loopnest.mapping.mapping import MappingError

FIELDS = ("rows_per_array", "groups_per_array", "replication")


@dataclass(frozen=True)
class CrossbarChoice:
    """Rows of one array a group's reduction uses (t), groups per array (k), copies of the
    weights (r); each an integer >= 1 (checked here, so nothing downstream re-checks)."""

    rows_per_array: int
    groups_per_array: int = 1
    replication: int = 1

    def __post_init__(self) -> None:
        for f in FIELDS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise MappingError(f"crossbar.{f}: an integer >= 1, got {excerpt(v)}")

    def to_dict(self) -> dict:
        return {"crossbar": {f: getattr(self, f) for f in FIELDS}}


def is_crossbar_file(data: object) -> bool:
    """Whether a mapping file's data is a crossbar mapping (top-level key ``crossbar``)."""
    return isinstance(data, dict) and "crossbar" in data


def parse_crossbar(data: object, source: str = "<mapping>") -> CrossbarChoice:
    """Plain data -> CrossbarChoice; one line naming the file and the field on bad input."""
    body = data.get("crossbar") if isinstance(data, dict) else None
    if not isinstance(body, dict) or set(data) != {"crossbar"}:
        raise MappingError(f"{source}: a crossbar mapping file holds only 'crossbar:', a map of "
                           f"{', '.join(FIELDS)} (integers >= 1)")
    unknown = sorted(set(body) - set(FIELDS), key=str)
    if unknown:
        raise MappingError(f"{source}: field crossbar.{excerpt(unknown[0])}: unknown; allowed: {', '.join(FIELDS)}")
    if "rows_per_array" not in body:
        raise MappingError(f"{source}: field crossbar.rows_per_array: missing (an integer >= 1)")
    try:
        return CrossbarChoice(**body)
    except MappingError as e:
        raise MappingError(f"{source}: field {e}") from None
