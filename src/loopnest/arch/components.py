"""Component library interface: energy per action and area of memories, MACs and wires.

A *component model* answers queries about one component at a time and returns ``None`` for what
it does not model; the resolver then reports the spec field that needs a number. Built-in
models live in ``loopnest.arch.tables``; users plug their own in with ``register_table`` (or the
``loopnest.energy_tables`` entry-point group of an installed package) and select them by name
in a spec (``energy_table: NAME``) or with ``load_arch(..., table=NAME)``.

Areas default to the physical area law of ``loopnest.arch.laws`` (um^2 at the queried node),
so a plug-in only has to supply energies.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from loopnest.arch.laws import mac_area_um2, memory_area_um2, network_area_um2
from loopnest.arch.queries import MacQuery, MemoryQuery, WireQuery


class ComponentModel:
    """Base of every component model: energies unknown (None), areas from the physical law.

    Subclasses set ``name`` and ``units`` and override what they model. Energies are per block
    access (memories: ``{"read", "write", "update"}``), per word per child (wires), per MAC.
    """

    name = "base"
    units = "pJ"

    def memory_energy(self, q: MemoryQuery) -> dict[str, float] | None:
        return None

    def mac_energy(self, q: MacQuery) -> float | None:
        return None

    def wire_energy(self, q: WireQuery) -> float | None:
        return None

    def memory_area(self, q: MemoryQuery) -> float | None:
        return memory_area_um2(q)

    def mac_area(self, q: MacQuery) -> float | None:
        return mac_area_um2(q)

    def network_area(self, q: WireQuery) -> float | None:
        return network_area_um2(q)


_REGISTRY: dict[str, ComponentModel] = {}


def register_table(model: ComponentModel) -> None:
    """Make a component model selectable by its ``name``."""
    if not isinstance(model, ComponentModel):
        raise TypeError(f"a component model must subclass ComponentModel, got {type(model).__name__}")
    _REGISTRY[model.name] = model


def table_names() -> list[str]:
    _load_builtin_and_plugins()
    return sorted(_REGISTRY)


def get_table(name: str) -> ComponentModel | None:
    _load_builtin_and_plugins()
    return _REGISTRY.get(name)


_loaded = False


def _load_builtin_and_plugins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from loopnest.arch import tables

    for model in tables.BUILTIN:
        _REGISTRY.setdefault(model.name, model)
    for ep in entry_points(group="loopnest.energy_tables"):
        register_table(ep.load()())
