"""Small problems and architectures built directly from the core types, for model tests."""

from __future__ import annotations

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.validation.timeloop import conv1d  # noqa: F401  (re-exported for the tests)

UNIT = {"read": 1.0, "write": 1.0, "update": 1.0}


def arch(*names: str, fanout: Fanout | None = None, fanout_at: int = 1, capacity: int = 1 << 20,
         energy: dict | None = None) -> Architecture:
    """Outermost level unbounded (DRAM), the others ``capacity`` words; unit energies."""
    levels = []
    for i, n in enumerate(names):
        kw = {"class": "dram"} if i == 0 else {"capacity_words": capacity}
        levels.append(Storage(name=n, word_bits=8, energy_pj=energy or UNIT,
                              fanout=fanout if i == fanout_at else None, **kw))
    return Architecture(name="test", levels=tuple(levels), compute=Compute(energy_pj=1.0, operand_bits=8))


def mapping(*levels: dict) -> Mapping:
    """Mapping from per-level dicts: {"t": {...}, "order": [...], "x": {...}, "y": {...}, "keep": [...]}."""
    return Mapping(tuple(LevelMapping(
        temporal=lv.get("t", {}), order=tuple(lv.get("order", ())),
        spatial_x=lv.get("x", {}), spatial_y=lv.get("y", {}),
        keep=frozenset(lv["keep"]) if "keep" in lv else None) for lv in levels))
