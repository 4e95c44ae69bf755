"""The sweep result store: one SQLite file (stdlib ``sqlite3``, WAL journal), resumable.

Schema (version 2; version 1 had no element_ops_* columns, and its energy and cycles were the MAC
layers' only)::

    meta(key TEXT PRIMARY KEY, value TEXT)
        -- 'schema': '2'; 'loopnest_version': the version that wrote every row
    results(
        key TEXT PRIMARY KEY,      -- SHA-256 of (architecture data, table, workload, mapper, version)
        point INTEGER,             -- the architecture point's index in its sweep's order
        params TEXT,               -- JSON {axis path: value}
        model TEXT, batch INTEGER, -- the workload
        status TEXT,               -- 'ok' or 'invalid'
        reason TEXT,               -- why a point is invalid (NULL when ok)
        energy_pj REAL,            -- network energy, MAC layers plus non-MAC operators (energy_units:
                                   --   pJ unless a normalized table); evaluate's "with_element_ops"
        cycles REAL,               -- network latency, cycles (layers and operators one after another)
        area_um2 REAL,             -- the architecture's area (arch area model), um^2
        edp REAL,                  -- energy_pj * cycles, pJ*cycles
        utilization REAL,          -- MAC layers' MACs / (their cycles * PEs), as evaluate's totals
        energy_units TEXT,
        energy_by_level TEXT,      -- JSON {level (or '<level>.network', 'MAC'): energy}, operators included
        layers INTEGER,            -- MAC layers of the workload
        element_ops_energy_pj REAL,  -- of energy_pj, the non-MAC operators' (shift and shuffle copies too)
        element_ops_cycles REAL)     -- of cycles, the non-MAC operators'

Only the driver process writes, one transaction per row, so a sweep killed at any moment (even
SIGKILL) leaves whole rows only; a restart skips the keys already stored. A store written by
another loopnest version is refused (its rows would not be comparable): use a new store.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import TextIO

import loopnest
from loopnest.names import plain

SCHEMA = "2"
COLUMNS = ("key", "point", "params", "model", "batch", "status", "reason", "energy_pj", "cycles", "area_um2", "edp",
           "utilization", "energy_units", "energy_by_level", "layers", "element_ops_energy_pj", "element_ops_cycles")
_TYPES = {"point": "INTEGER", "batch": "INTEGER", "layers": "INTEGER", "energy_pj": "REAL", "cycles": "REAL",
          "area_um2": "REAL", "edp": "REAL", "utilization": "REAL", "element_ops_energy_pj": "REAL",
          "element_ops_cycles": "REAL"}


class StoreError(ValueError):
    """A store that cannot be used; the message names the file."""


class Store:
    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"{self.path}: no such store")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder; give the store's file name")
        if create and not self.path.parent.is_dir():
            raise StoreError(f"{self.path}: the folder {self.path.parent} does not exist")
        try:
            self.db = sqlite3.connect(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self._init()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a loopnest sweep store ({e})") from None

    def _init(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            cols = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" + (" PRIMARY KEY" if c == "key" else "") for c in COLUMNS)
            with self.db:
                self.db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                self.db.execute(f"CREATE TABLE results ({cols})")
                self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                    [("schema", SCHEMA), ("loopnest_version", loopnest.__version__)])
            return
        if not {"meta", "results"} <= tables:
            raise StoreError(f"{self.path}: not a loopnest sweep store (tables: {plain(sorted(tables)) or 'none'})")
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if meta.get("schema") != SCHEMA:
            raise StoreError(f"{self.path}: store schema {meta.get('schema')!r}, this loopnest reads schema {SCHEMA}")
        if meta.get("loopnest_version") != loopnest.__version__:
            raise StoreError(f"{self.path}: written by loopnest {meta.get('loopnest_version')}, this is loopnest "
                             f"{loopnest.__version__}; results of two versions are never mixed: use a new store")

    def keys(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM results")}

    def add(self, row: dict) -> None:
        """Insert one row in its own transaction (committed before returning)."""
        with self.db:
            self.db.execute(f"INSERT INTO results VALUES ({', '.join('?' * len(COLUMNS))})", [row[c] for c in COLUMNS])

    def rows(self, keys: list[str] | None = None) -> list[dict]:
        """Every row (or those of ``keys``), in (model, batch, point) order, JSON columns decoded."""
        where = f" WHERE key IN ({', '.join('?' * len(keys))})" if keys is not None else ""
        cur = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM results{where} ORDER BY model, batch, point, key", keys or [])
        out = []
        for r in cur:
            row = dict(zip(COLUMNS, r))
            row["params"] = json.loads(row["params"])
            row["energy_by_level"] = json.loads(row["energy_by_level"]) if row["energy_by_level"] else None
            out.append(row)
        return out

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def flat(row: dict) -> dict:
    """One CSV row: axis values as ``param:<path>``, level energies as ``energy.<level>``."""
    out = {c: row[c] for c in COLUMNS if c not in ("params", "energy_by_level")}
    out |= {f"param:{k}": v for k, v in row["params"].items()}
    out |= {f"energy.{k}": v for k, v in (row["energy_by_level"] or {}).items()}
    return out


def write_csv(rows: list[dict], dest: str | Path | TextIO) -> None:
    """The rows, flattened (``flat``), as CSV to a file path or an open text stream (stdout)."""
    flats = [flat(r) for r in rows]
    fields = list(dict.fromkeys(k for f in flats for k in f))
    if not isinstance(dest, (str, Path)):
        _write_csv(dest, fields, flats)
        return
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        _write_csv(fh, fields, flats)


def _write_csv(fh: TextIO, fields: list[str], flats: list[dict]) -> None:
    w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(flats)
