"""Other tools' spec formats in and out: Timeloop/Accelergy, ZigZag and SCALE-Sim inputs become
loopnest's architecture, layer and mapping data; loopnest mappings become Timeloop mappings.

Layer: above ``workload``, ``arch`` and ``mapping`` (it builds their spec data and validates it
with their own loaders), below ``cli`` (which calls it). Importers return plain loopnest spec
data (what the YAML files hold) plus :class:`Notes`: every part of the input that loopnest does
not represent, by feature, with each place it occurs; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class InteropError(ValueError):
    """An input that cannot be imported: the message names the file, the place and the feature."""


@dataclass
class Notes:
    """What an import left out or assumed, grouped by feature: ``{feature: [place, ...]}``."""

    items: dict[str, list[str]] = field(default_factory=dict)

    def add(self, feature: str, where: str) -> None:
        places = self.items.setdefault(feature, [])
        if where not in places:
            places.append(where)

    def lines(self) -> list[str]:
        """One line per feature: the feature, how many places, and the places (first 6)."""
        out = []
        for feature, places in self.items.items():
            shown = ", ".join(places[:6]) + (f", ... ({len(places) - 6} more)" if len(places) > 6 else "")
            out.append(f"{feature}: {len(places)} place{'s' if len(places) != 1 else ''}: {shown}")
        return out


@dataclass
class Imported:
    """The loopnest spec data one import produced (each None where the input had none)."""

    arch: dict | None = None
    layers: list[dict] = field(default_factory=list)
    mapping: dict | None = None
    notes: Notes = field(default_factory=Notes)

    @property
    def layer(self) -> dict | None:
        """The one imported layer (None if none; the first if several)."""
        return self.layers[0] if self.layers else None
