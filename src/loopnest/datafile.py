"""Read a YAML (or JSON) data file safely: safe loading only, never executed, and bounded.

Shared by every layer that loads specs from disk (architectures, mappings, constraints, layers),
so that an unreadable or malformed file, or a field that fails validation, gets the same
one-line error everywhere. JSON files go through the same reader (YAML is a superset).

Limits, each checked while reading or parsing (never after building the whole structure):

- size: at most ``max_bytes()`` bytes (16 MiB; ``LOOPNEST_MAX_FILE_MB`` overrides it), read with
  one bounded read, so a pipe or a device such as ``/dev/zero`` cannot make it read forever
  (files read by other libraries, such as ONNX models, are checked first with :func:`check_file`);
- text: UTF-8 without NUL bytes (the error names the line and column of the first bad byte);
- nesting: at most ``MAX_DEPTH`` levels of mappings and lists (counted while composing, before
  any recursion can run out of stack);
- size of the data: at most ``MAX_NODES`` values with every alias expanded (an alias counts as
  the whole structure it names), so an alias bomb ("billion laughs") stops after a few
  thousand events instead of expanding into gigabytes downstream.

Error messages quote values only through :func:`excerpt` (a bounded repr).
"""

from __future__ import annotations

import errno
import os
import reprlib
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

MAX_MB = 16  # default size limit of one data file, MiB
MAX_DEPTH = 100  # nesting levels of mappings and lists
MAX_NODES = 100_000  # values (scalars, mappings, lists) with aliases expanded
EXCERPT = 60  # characters of a value quoted in an error message


class DataFileError(ValueError):
    """A file that cannot be read or is not valid YAML; the message names the file."""


def max_bytes(env: str = "LOOPNEST_MAX_FILE_MB", default_mb: float = MAX_MB) -> int:
    """A size limit in bytes: ``env`` in MiB when set to a positive number, else ``default_mb``."""
    try:
        mb = float(os.environ.get(env, "") or default_mb)
    except ValueError:
        mb = default_mb
    return int((mb if mb > 0 else default_mb) * 2**20)


def check_file(path: str | Path, limit: int, what: str, env: str) -> None:
    """Check, before a library reads it, that ``path`` is a regular file of at most ``limit`` bytes
    (``env`` names the variable that raises the limit); else one DataFileError line."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataFileError(f"{_name(path)}: file not found") from None
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{_name(path)}: cannot read the file: {_why(exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        raise DataFileError(f"{_name(path)}: not a regular file (a {what} is read from a file, not a pipe or device)")
    if st.st_size > limit:
        raise DataFileError(f"{_name(path)}: {st.st_size / 2**20:.1f} MiB, larger than the {limit / 2**20:g} MiB "
                            f"limit of a {what} (set {env} to raise it)")


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A short repr of ``value`` for an error message: bounded in work and length, whatever its size."""
    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother, r.maxlong = 3, limit, limit, limit
    r.maxdict = r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = 6
    text = r.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


_TIMELOOP_KEYS = {"architecture", "problem", "mapping", "ERT", "ART", "architecture_constraints",
                  "mapspace_constraints", "mapspace", "mapper", "variables", "components", "globals"}


def foreign_format(data: Any) -> str | None:
    """The other tool whose spec ``data`` is, by its shape ("timeloop", "zigzag"), or None; the
    loaders name the import command instead of a field error (``loopnest import``, docs/interop.md)."""
    if isinstance(data, dict) and data and set(data) <= _TIMELOOP_KEYS and (
            {"architecture", "problem"} & set(data) or _entries_have(data.get("mapping"), "target")):
        return "timeloop"
    if isinstance(data, dict) and {"memories", "operational_array"} <= set(data):
        return "zigzag"
    if _entries_have(data, "equation"):
        return "zigzag"
    return None


def _entries_have(data: Any, key: str) -> bool:
    return isinstance(data, list) and bool(data) and all(isinstance(e, dict) and key in e for e in data)


def foreign_hint(data: Any, path: str | Path) -> str | None:
    """'PATH: a Timeloop file; convert it first: loopnest import timeloop PATH -o out.yaml', or None."""
    fmt = foreign_format(data)
    if fmt is None:
        return None
    name = {"timeloop": "Timeloop", "zigzag": "ZigZag"}[fmt]
    return (f"{_name(path)}: a {name} file; convert it first: loopnest import {fmt} {_name(path)} -o out.yaml "
            "(docs/interop.md)")



def read_own_yaml(path: str | Path, error: type[Exception]) -> Any:
    """The data of a loopnest YAML file (``read_yaml``); ``error`` with one line when it cannot
    be read or is another tool's file (``foreign_hint``: the import command to convert it)."""
    try:
        data = read_yaml(path)
    except DataFileError as e:
        raise error(str(e)) from None
    hint = foreign_hint(data, path)
    if hint is not None:
        raise error(hint)
    return data

def one_line(text: str) -> str:
    """``text`` on one line (newlines and runs of spaces collapsed)."""
    return " ".join(text.split())


def is_file(path: str | Path) -> bool:
    """``Path.is_file`` that answers False for a name the OS rejects (too long, NUL) instead of raising."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def read_bytes(path: str | Path, limit: int | None = None, what: str = "data file") -> bytes:
    """The bytes of ``path``, at most ``limit`` (default ``max_bytes()``): one bounded read, so pipes
    and devices are safe; every failure is one DataFileError line naming the file."""
    limit = max_bytes() if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO without writer must not block the open
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{_name(path)}: cannot read the file: {_why(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise DataFileError(f"{_name(path)}: cannot read the file: it is a directory")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise DataFileError(f"{_name(path)}: cannot read the file: {_why(exc)}") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise DataFileError(f"{_name(path)}: larger than the {limit / 2**20:g} MiB limit of a {what} "
                            "(set LOOPNEST_MAX_FILE_MB to raise it)")
    return raw


def read_yaml(path: str | Path, tagged: bool = False) -> object:
    """The data in a YAML or JSON file, within the module's limits; None for an empty file.

    ``tagged``: accept local tags (Timeloop v0.4's ``!Container``, ``!Component``): a tagged
    mapping gets the tag's name under the key ``"!"``; a tagged list or scalar is read untagged.
    Tags only name data here: nothing is constructed from them."""
    raw = read_bytes(path)
    text = decode(raw, path)
    loader = (_TaggedLoader if tagged else _Loader)(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        problem = _problem(exc)
        if "maximum nesting depth" in str(problem):  # libyaml's own limit (1,000 in recent releases) met first
            problem = f"nested deeper than {MAX_DEPTH} levels"
        if "tag '!Container'" in str(problem) or "tag '!Component'" in str(problem):
            problem = f"{problem} (a Timeloop v0.4 file: convert it first with loopnest import timeloop)"
        raise DataFileError(f"{_name(path)}: not valid YAML{_where(exc, text)}: {one_line(problem)}") from None
    except RecursionError:  # a guard only: the depth limit stops nesting long before the stack ends
        raise DataFileError(f"{_name(path)}: nested too deeply (limit {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


def decode(raw: bytes, path: str | Path) -> str:
    """``raw`` as UTF-8 text (a leading BOM dropped); a NUL byte or an invalid byte is one error line
    naming its line and column."""
    nul = raw.find(b"\0")
    if nul >= 0:
        raise DataFileError(f"{_name(path)}: contains a NUL byte at {_line_col(raw, nul)}; a data file must be "
                            "UTF-8 text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{_name(path)}: not UTF-8 text: byte 0x{raw[exc.start]:02x} at "
                            f"{_line_col(raw, exc.start)}") from None


class _LimitError(yaml.YAMLError):
    def __init__(self, problem: str, mark):
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _LimitedComposer(Composer):
    """PyYAML's composer, counting nesting depth and alias-expanded values as it goes."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:  # its anchor is still open: the structure would contain itself
                raise _LimitError("an alias inside the structure it names (a recursive structure)", mark)
            self._count(self._sizes[id(node)], mark)
            return node
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitError(f"nested deeper than {MAX_DEPTH} levels", mark)
        before = self._nodes
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._count(1, mark)
        self._sizes[id(node)] = self._nodes - before
        return node

    def _count(self, n: int, mark) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise _LimitError(f"more than {MAX_NODES:,} values with aliases expanded (an alias bomb?)", mark)


def _loader_class() -> type:
    """The limited loader over libyaml's event parser when PyYAML has it (fast: a 10 MB comment line
    scans in milliseconds), else over the pure-Python parser."""
    try:
        from yaml._yaml import CParser

        bases: tuple = (CParser,)

        def parse(self, stream: str) -> None:
            CParser.__init__(self, stream)
    except ImportError:
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        bases = (Reader, Scanner, Parser)

        def parse(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    class Loader(_LimitedComposer, *bases, SafeConstructor, Resolver):
        def __init__(self, stream: str):
            parse(self, stream)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._depth, self._nodes, self._sizes = 0, 0, {}

        def dispose(self) -> None:
            self._sizes = {}
            super().dispose()

    return Loader


_Loader = _loader_class()


class _TaggedLoader(_Loader):
    """The limited loader that reads ``!Tag`` nodes as plain data (see ``read_yaml(tagged=True)``)."""


def _tagged(loader, suffix: str, node):
    if isinstance(node, yaml.MappingNode):
        return {"!": suffix, **loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_TaggedLoader.add_multi_constructor("!", _tagged)


def _name(path: str | Path) -> str:
    """The file's name as given, shortened if absurdly long (it is quoted in every message)."""
    text = str(path)
    return text if len(text) <= 200 else text[:100] + "..." + text[-40:]


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return "the file name is longer than the system allows"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return one_line(str(exc)) or type(exc).__name__


def _line_col(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {col}"


def _where(exc: yaml.YAMLError, text: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return f" at line {mark.line + 1}, column {mark.column + 1}"
    position = getattr(exc, "position", None)  # libyaml reader errors give a character offset
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        return f" at line {line}, column {position - (text.rfind(chr(10), 0, position) + 1) + 1}"
    return ""


def _problem(exc: yaml.YAMLError) -> str:
    if getattr(exc, "problem", None):
        return str(exc.problem)
    reason = getattr(exc, "reason", None)
    if reason:  # a reader error: an unacceptable character
        char = getattr(exc, "character", None)
        return f"{reason} (character {excerpt(char)})" if char is not None else str(reason)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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
