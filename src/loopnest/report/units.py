"""Numbers with their units, the same way in every table: energies with engineering prefixes."""

from __future__ import annotations

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))


def eng(value: float | None, unit: str) -> str:
    """``value`` with an engineering prefix and 3 significant digits: energies in pJ are shown in
    joules (``1.88e6`` pJ -> ``1.88 µJ``); other units keep their name (``1.88e6`` norm -> ``1.88 M norm``)."""
    if value is None:
        return "-"
    if unit == "pJ":
        value, unit = value * 1e-12, "J"
    if value == 0:
        return f"0 {unit}"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale * 0.9995:
            break
    joined = f"{prefix}{unit}" if unit == "J" or not prefix else f"{prefix} {unit}"  # "µJ", but "M norm"
    return f"{value / scale:.3g} {joined}"


def energy_scale(peak: float, unit: str) -> tuple[float, str]:
    """(divisor, unit label) that puts ``peak`` (in ``unit``) between 1 and 1000 with an engineering
    prefix: 1.5e9 pJ -> (1e9, "mJ"), so that a chart's axis reads 1.5 mJ rather than 1.5B pJ."""
    joules = unit == "pJ"
    value = peak * (1e-12 if joules else 1.0)
    for scale, prefix in _PREFIXES:
        if value >= scale * 0.9995 or scale == _PREFIXES[-1][0]:
            break
    if joules:
        return scale / 1e-12, f"{prefix}J"
    return scale, f"{prefix} {unit}" if prefix else unit
