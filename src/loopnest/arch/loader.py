"""Load architecture specs (YAML files or shipped presets) into resolved ``Architecture`` objects.

Every failure is one ``ArchSpecError`` whose message names the file, the field path and what is
allowed; nothing in a file is executed (``yaml.safe_load``; expressions go through
``loopnest.arch.expr``). A spec may start from another with ``base: NAME`` (a preset name or a
path relative to the file): its mappings are merged key by key; a list (``levels``) given as a
list replaces the base's, and given as a mapping from level names to fields overrides those
fields of those levels only (``levels: {GlobalBuffer: {capacity: 65536}}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from loopnest.arch.resolve import ResolveError, resolve
from loopnest.arch.spec import Architecture
from loopnest.datafile import excerpt, field_path, is_file, read_own_yaml
from loopnest.names import did_you_mean

PRESET_DIR = Path(__file__).parent / "presets"
MAX_BASE_DEPTH = 8


class ArchSpecError(ValueError):
    """A spec that cannot be loaded: the message names the file, the field path and what is allowed."""


def list_presets() -> list[str]:
    """Names of the shipped presets (``loopnest arch list``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    return PRESET_DIR / f"{name}.yaml"


def load_arch(name_or_path: str | Path, table: str | None = None) -> Architecture:
    """A resolved architecture from a preset name or a YAML file; ``table`` overrides the spec's
    ``energy_table`` (``horowitz45``: pJ; ``eyeriss65``: normalized, 1 = one 16-bit MAC). A bad
    ``table`` is reported as the caller's mistake, not as one of the spec file's."""
    from loopnest.arch.components import table_names

    if table is not None and table not in table_names():
        raise ArchSpecError(f"energy table {table!r} is unknown{did_you_mean(table, table_names())}; "
                            f"known tables: {', '.join(table_names())}")
    path = _locate(name_or_path)
    return parse_arch(read_spec(path), source=str(path), table=table)


def parse_arch(data: Any, source: str = "<spec>", table: str | None = None) -> Architecture:
    """Validate and resolve a spec already read into plain data (``base`` is not followed here)."""
    if not isinstance(data, dict):
        raise ArchSpecError(f"{source}: the spec must be a mapping of fields (name, levels, compute, ...), got {type(data).__name__}")
    try:
        arch = Architecture.model_validate(data)
    except ValidationError as exc:
        raise ArchSpecError(f"{source}: {_describe(exc, data)}") from None
    try:
        return resolve(arch, table)
    except ResolveError as exc:
        raise ArchSpecError(f"{source}: {exc}") from None
    except ArithmeticError as exc:  # a number valid alone whose scaling overflows: still one line
        raise ArchSpecError(f"{source}: a number is too large to resolve the spec ({exc})") from None


def read_spec(path: Path, depth: int = 0) -> dict:
    """The spec's plain data with its ``base`` chain merged in."""
    data = read_own_yaml(path, ArchSpecError)
    if not isinstance(data, dict):
        raise ArchSpecError(f"{path}: the spec must be a mapping of fields (name, levels, compute, ...), got {type(data).__name__}")
    if "base" not in data:
        return data
    base = data.pop("base")
    if not isinstance(base, str) or not base:
        raise ArchSpecError(f"{path}: base: must be a preset name or a file path, got {excerpt(base)}")
    if depth >= MAX_BASE_DEPTH:
        raise ArchSpecError(f"{path}: base: chain longer than {MAX_BASE_DEPTH} (a cycle?)")
    rel = path.parent / base
    parent = rel if rel.suffix in (".yaml", ".yml") and is_file(rel) else _locate(base)
    return _merge(read_spec(parent, depth + 1), data, str(path))


def _locate(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if is_file(p):
        return p
    if isinstance(name_or_path, str) and is_file(preset_path(name_or_path)):
        return preset_path(name_or_path)
    raise ArchSpecError(f"{name_or_path}: no such file and no such preset{did_you_mean(str(name_or_path), list_presets())}; "
                        f"presets are {', '.join(list_presets())}")


def _merge(base: dict, over: dict, source: str, where: str = "") -> dict:
    """``over`` merged into ``base``: mappings key by key, a list replaced, and a list of named
    mappings (``levels``) overridden item by item when ``over`` gives a mapping of names."""
    out = dict(base)
    for k, v in over.items():
        field = f"{where}{k}"
        old = out.get(k)
        if isinstance(v, dict) and isinstance(old, dict):
            out[k] = _merge(old, v, source, field + ".")
        elif isinstance(v, dict) and isinstance(old, list) and all(isinstance(x, dict) for x in old):
            out[k] = _merge_named(old, v, source, field)
        else:
            out[k] = v
    return out


def _merge_named(items: list[dict], over: dict, source: str, field: str) -> list[dict]:
    """``items`` (each with a ``name``) with ``over[name]``'s fields merged into the item of that name."""
    names = [x.get("name") for x in items]
    out = list(items)
    for name, fields in over.items():
        if name not in names:
            raise ArchSpecError(f"{source}: {field}.{name}: the base has no such level{did_you_mean(str(name), names)}; "
                                f"its levels are {', '.join(map(str, names))} (give {field} as a list to replace them all)")
        if not isinstance(fields, dict):
            raise ArchSpecError(f"{source}: {field}.{name}: a mapping of the fields to override, e.g. "
                                f"{{capacity: 65536}} (got {excerpt(fields)})")
        i = names.index(name)
        out[i] = _merge(out[i], fields, source, f"{field}.{name}.")
    return out


def _describe(exc: ValidationError, data: dict) -> str:
    """The first error as 'path: what is wrong (got X)', with the count of the others."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(err["loc"])
    path = field_path(loc, data)
    kind, msg = err["type"], err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        text = f"{path}: unknown field; allowed fields here: {_allowed(loc[:-1])}"
    elif kind == "missing":
        text = f"{path}: required field is missing"
    elif isinstance(err.get("input"), (dict, list)):  # a model-level check: its message names the field
        text = f"{path + ': ' if path else ''}{msg}"
    else:
        text = f"{path}: {msg} (got {excerpt(err.get('input'))})"
    more = len(errors) - 1
    return text + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that validates the object at ``loc`` (following nested model fields)."""
    model: Any = Architecture
    for key in loc:
        if isinstance(key, int):
            continue
        field = model.model_fields.get(key) or next((f for f in model.model_fields.values() if f.alias == key), None)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed(loc: tuple) -> list[str]:
    model = _model_at(loc)
    if model is None:
        return []
    return sorted(f.alias or name for name, f in model.model_fields.items())
