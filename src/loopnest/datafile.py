"""Read a YAML (or JSON) data file safely: ``yaml.safe_load`` only, never executed.

Shared by every layer that loads specs from disk (architectures, mappings, constraints, layers),
so that an unreadable or malformed file, or a field that fails validation, gets the same
one-line error everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DataFileError(ValueError):
    """A file that cannot be read or is not valid YAML; the message names the file."""


def read_yaml(path: str | Path) -> object:
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DataFileError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read the file: {exc}") from None


def field_path(loc: tuple, data: Any) -> str:
    """A pydantic error location as a field path: ``('levels', 1, 'fanout', 'x')`` ->
    ``levels[1] (GlobalBuffer).fanout.x``, with names taken from the raw data."""
    parts: list[str] = []
    node = data
    for key in loc:
        if key == "[key]":  # pydantic's marker for a bad dictionary key
            parts[-1] += " (key)"
            continue
        node = node.get(key) if isinstance(node, dict) else (
            node[key] if isinstance(node, list) and isinstance(key, int) and key < len(node) else None)
        if isinstance(key, int) and parts:
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] += f"[{key}]" + (f" ({name})" if isinstance(name, str) else "")
        else:
            parts.append(str(key))
    return ".".join(parts)
