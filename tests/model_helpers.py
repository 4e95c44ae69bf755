"""Small problems and architectures built directly from the core types, for model tests."""

from __future__ import annotations

import pytest
import yaml

from loopnest.arch import ArchSpecError, load_arch
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


def spec_error(tmp_path, fanout: dict | None = None, **top) -> tuple[str, str]:
    """(path, message) of the error loading a DRAM > Buf (4 x 4 fanout plus ``fanout``) > RF spec
    with the top-level fields ``top``, written to a file: for the one-line bad-input tests."""
    spec = {"name": "t", "technology_nm": 45, "energy_table": "horowitz45", "compute": {"operand_bits": 16}, **top,
            "levels": [{"name": "DRAM", "class": "dram"},
                       {"name": "Buf", "capacity_words": 1024, "fanout": {"x": 4, "y": 4, **(fanout or {})}},
                       {"name": "RF", "class": "regfile", "capacity_words": 16}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ArchSpecError) as info:
        load_arch(str(path))
    return str(path), str(info.value)
