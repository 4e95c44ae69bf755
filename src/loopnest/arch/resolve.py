"""Resolve an architecture: fill every energy and area the spec leaves out from a component model.

After resolution every storage level has ``energy_pj`` with read, write and update (a level
with partitions of different sizes also gets ``energy_pj_by_role``; its ``energy_pj`` is the
per-action maximum over partitions, an upper bound), every fanout has a numeric ``energy_pj``
and ``area_um2``, and the compute has ``energy_pj`` and ``area_um2``. Numbers in the spec win.

Wire length for a fanout: the pitch of one child, ``sqrt(area of one child subtree)``.
"""

from __future__ import annotations

import math

from loopnest.arch.components import ComponentModel, get_table, table_names
from loopnest.arch.pim import pim_mac_area_um2, pim_mac_energy_pj
from loopnest.arch.queries import MacQuery, MemoryQuery, WireQuery
from loopnest.arch.spec import ACTIONS, Architecture, Compute, Storage
from loopnest.workload.problem import ROLES


class ResolveError(ValueError):
    """A number the spec leaves out and no component model can supply; names the field path."""


def resolve(arch: Architecture, table: str | None = None) -> Architecture:
    """A copy of ``arch`` with every energy and area filled in (see module docstring)."""
    name = table or arch.energy_table
    model = None
    if name is not None:
        model = get_table(name)
        if model is None:
            field = "table" if table else "energy_table"
            raise ResolveError(f"{field}: unknown energy table {name!r}; known tables: {', '.join(table_names())}")
    area_model = model or ComponentModel()
    node = arch.technology_nm
    compute = _resolve_compute(arch.compute, model, area_model, node)
    levels: list[Storage] = list(arch.levels)
    child_area = compute.area_um2  # area of one child subtree of the level being resolved
    for i in reversed(range(len(levels))):
        lv = levels[i]
        where = f"levels[{i}] ({lv.name})"
        area = lv.area_um2 if lv.area_um2 is not None else _memory_area(lv, area_model, node, where)
        fanout = lv.fanout
        if fanout is not None:
            wire = WireQuery(lv.word_bits, math.sqrt(child_area) / 1000.0, fanout.size, node)
            f_energy = fanout.energy_pj if fanout.energy_pj is not None else _need(
                model and model.wire_energy(wire), f"{where}.fanout.energy_pj", model)
            f_area = fanout.area_um2 if fanout.area_um2 is not None else _need(
                area_model.network_area(wire), f"{where}.fanout.area_um2", area_model)
            fanout = fanout.model_copy(update={"energy_pj": f_energy, "area_um2": f_area})
            child_area = area + f_area + fanout.size * child_area
        else:
            child_area = area + child_area
        levels[i] = lv.model_copy(update={"area_um2": area, "fanout": fanout, **_memory_energy(lv, model, node, where)})
    update = {"levels": tuple(levels), "compute": compute}
    if model is not None and model.units != "pJ" and arch.leakage_mw():
        raise ResolveError(f"leakage_mw: static power (mW) gives pJ, which cannot add to the {model.units!r} units of "
                           f"energy table {model.name!r}; use a table in pJ or drop leakage_mw")
    if model is not None:
        update |= {"energy_table": model.name, "energy_units": model.units}
    return arch.model_copy(update=update)


def _need(value: float | None, field: str, model: ComponentModel | None) -> float:
    if value is None:
        why = f"energy table {model.name!r} does not model it" if model else "no energy table is selected"
        raise ResolveError(f"{field}: missing, and {why}; give the number in the spec or select a table: {', '.join(table_names())}")
    return float(value)


def _queries(lv: Storage, node: float) -> dict[str, MemoryQuery]:
    """One query per partition (keyed by role), or one for the whole level (key '')."""
    sizes = lv.partitions if lv.partitions is not None else {"": lv.capacity_words}
    return {k: MemoryQuery(lv.cls, n, lv.word_bits, lv.block_words, node) for k, n in sizes.items()}


def _memory_area(lv: Storage, model: ComponentModel, node: float, where: str) -> float:
    return sum(_need(model.memory_area(q), f"{where}.area_um2", model) for q in _queries(lv, node).values())


def _memory_energy(lv: Storage, model: ComponentModel | None, node: float, where: str) -> dict:
    given = lv.energy_pj or {}
    by_role: dict[str, dict[str, float]] = {}
    for key, q in _queries(lv, node).items():
        computed = model.memory_energy(q) if model is not None else None
        e = {**(computed or {}), **given, **((lv.energy_pj_by_role or {}).get(key, {}))}
        missing = [a for a in ACTIONS if a not in e]
        if missing:
            part = f" (partition {key})" if key else ""
            _need(None, f"{where}.energy_pj{part} {missing}", model)
        by_role[key] = {a: float(e[a]) for a in ACTIONS}
    energy = {a: max(e[a] for e in by_role.values()) for a in ACTIONS}
    differ = len({tuple(e.values()) for e in by_role.values()}) > 1
    roles = {r: by_role[r] for r in ROLES if r in by_role} if differ else None
    return {"energy_pj": energy, "energy_pj_by_role": roles}


def _resolve_compute(c: Compute, model: ComponentModel | None, area_model: ComponentModel, node: float) -> Compute:
    q = MacQuery(c.operand_bits, c.accumulator_bits or c.operand_bits, c.arithmetic, node)
    if c.pim is not None:
        if model is not None and model.units != "pJ" and c.energy_pj is None:
            raise ResolveError(f"compute.pim: its energies are in pJ but table {model.name!r} is in {model.units}; select a pJ table")
        energy = c.energy_pj if c.energy_pj is not None else pim_mac_energy_pj(c.pim, c.operand_bits)
        area = c.area_um2 if c.area_um2 is not None else pim_mac_area_um2(c.pim)
    else:
        energy = c.energy_pj if c.energy_pj is not None else _need(model and model.mac_energy(q), "compute.energy_pj", model)
        area = c.area_um2 if c.area_um2 is not None else _need(area_model.mac_area(q), "compute.area_um2", area_model)
    return c.model_copy(update={"energy_pj": float(energy), "area_um2": float(area)})
