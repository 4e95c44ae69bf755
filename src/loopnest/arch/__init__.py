"""loopnest.arch: architecture specs (pydantic, YAML), the component library, shipped presets.

    from loopnest.arch import load_arch
    arch = load_arch("eyeriss")                      # resolved: every energy and area filled in
    arch = load_arch("eyeriss", table="eyeriss65")   # ISCA 2016 normalized costs instead
"""

from loopnest.arch.components import ComponentModel, register_table, table_names
from loopnest.arch.loader import ArchSpecError, list_presets, load_arch, parse_arch
from loopnest.arch.queries import MacQuery, MemoryQuery, WireQuery
from loopnest.arch.pim import PimArray
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage

__all__ = [
    "ArchSpecError", "Architecture", "ComponentModel", "Compute", "Fanout", "MacQuery", "MemoryQuery",
    "PimArray", "Storage", "WireQuery", "list_presets", "load_arch", "parse_arch", "register_table", "table_names",
]
