"""Accelergy's energy and area reference tables (ERT, ART) as loopnest reads them: an ERT as
{component: {action: [pJ per action, one per argument variant]}}, an ART as {component: um^2}; a
table's last name part without ``[..]`` names the component (``system.PE[0..15].RF`` -> ``RF``)."""

from __future__ import annotations

import re

from loopnest.interop import InteropError, Notes


def read_tables(data: dict, key: str, src: str, notes: Notes) -> dict:
    """An ERT as {component: {action: [energies]}} or an ART as {component: area}."""
    body = data.get(key) or {}
    tables = body.get("tables") if isinstance(body, dict) else None
    if not isinstance(tables, list):
        raise InteropError(f"{src}: {key}.tables: a list is required")
    out: dict = {}
    for i, t in enumerate(tables):
        where = f"{src}: {key}.tables[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise InteropError(f"{where}: a mapping with a name is required")
        short = re.sub(r"\[\d+\.\.\d+\]", "", t["name"]).split(".")[-1]  # system.PE[0..15].RF -> RF
        if key == "ART":
            out[short] = float(t.get("area", 0.0))
            continue
        actions: dict[str, list[float]] = {}
        for j, a in enumerate(_actions(t, where)):
            if not isinstance(a, dict) or "name" not in a or "energy" not in a:
                raise InteropError(f"{where}.actions[{j}]: name and energy are required")
            actions.setdefault(str(a["name"]), []).append(float(a["energy"]))
        out[short] = actions
    return out


def _actions(table: dict, where: str) -> list:
    actions = table.get("actions") or []
    if not isinstance(actions, list):
        raise InteropError(f"{where}.actions: a list is required, got {type(actions).__name__}")
    return actions


def ert_storage(table: dict | None, where: str, notes: Notes) -> dict:
    if not table:
        return {}
    out = {}
    for action in ("read", "write", "update"):
        if action in table:
            out[action] = largest(table[action], f"{where} ERT action {action}", notes)
    if "update" not in out and "write" in out:
        notes.add("ERT without an update action: update charged as a write", where)
        out["update"] = out["write"]
    for action in table:
        if action not in ("read", "write", "update"):
            notes.add(f"ERT action {action!r} (loopnest charges read, write, update)", where)
    return out


def largest(variants: list[float], where: str, notes: Notes) -> float:
    if len(set(variants)) > 1:
        notes.add("ERT action with several argument variants: the largest energy used", where)
    return max(variants)
