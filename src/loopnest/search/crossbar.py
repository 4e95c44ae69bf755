"""A whole network on analog processing-in-memory crossbars: every layer with trained weights
mapped by the crossbar search (``model.crossbar.map_crossbar``: rows, columns and arrays,
replication), summed by component. What ``loopnest evaluate`` runs on an architecture with a
``compute.pim`` block (the crossbar route), and what ``codesign pim-study`` sweeps.

Totals: energy by component (pJ) and its sum, energy per MAC over the mapped layers' MACs,
cycles summed over layers (layers run one after another), utilization = useful weight cells /
cells of the arrays the tiles occupy, summed over layers; ``movement_share`` is the share of
everything but the cell reads (DAC, ADC, digital accumulation, buffers: activations moving in
and out, Yang and Sze's claim (f)). Layers without trained weights (attention's Q.K^T) cannot
sit in a crossbar: they are listed in ``skipped_layers`` and left out of every total.
"""

from __future__ import annotations

from loopnest.arch.spec import Architecture, PimArray
from loopnest.model.crossbar import COMPONENTS, MOVEMENT, CrossbarError, CrossbarMapping, array_count, map_crossbar
from loopnest.workload.network import Network

UNITS = {"energy": "pJ", "cycles": "cycles", "utilization": "fraction 0..1 of the cells of the arrays used"}


def network_totals(mappings: list[CrossbarMapping]) -> dict:
    """Energy by component, energy per MAC, cycles, utilization and the movement share of a
    network's layer mappings (module docstring)."""
    energy = {c: sum(m.energy_pj[c] for m in mappings) for c in COMPONENTS}
    occupied = sum(m.tiles * m.rows * m.columns for m in mappings)
    useful = sum(m.utilization * m.tiles * m.rows * m.columns for m in mappings)
    macs = sum(m.shape.macs for m in mappings)
    total = sum(energy.values())
    return {"energy_pj": energy, "total_pj": total, "pj_per_mac": total / macs if macs else None,
            "cycles": sum(m.cycles for m in mappings), "macs": macs,
            "utilization": useful / occupied if occupied else None,
            "movement_share": sum(energy[c] for c in MOVEMENT) / total if total else None}


def map_network_crossbar(network: Network, arch: Architecture, objective: str = "energy", *, pim: PimArray | None = None,
                         arrays: int | None = None, adc_energy: str = "fixed", per_layer: bool = True) -> dict:
    """Every layer of ``network`` on ``arch``'s crossbars (``pim`` and ``arrays`` override the
    architecture's own, for array-size sweeps), JSON-ready: the array, each layer's mapping and
    costs (``per_layer``), the skipped layers and the totals."""
    pim = pim or arch.compute.pim
    if pim is None:
        raise CrossbarError(f"architecture {arch.name!r}: compute has no pim block; the crossbar mapper needs an analog PIM array")
    arrays = arrays or array_count(arch)
    mapped, skipped = [], []
    for lay in network.layers:
        try:
            mapped.append(map_crossbar(lay, arch, pim=pim, arrays=arrays, objective=objective, adc_energy=adc_energy))
        except CrossbarError as e:
            if "static weights only" not in str(e):
                raise
            skipped.append(lay.name)
    return {"model": network.name, "arch": arch.name, "mapper": "crossbar", "objective": objective, "adc_energy": adc_energy,
            "array": {"rows": pim.rows, "columns": pim.columns, "arrays": arrays, "bits_per_cell": pim.bits_per_cell,
                      "dac_bits": pim.dac_bits, "adc_bits": pim.adc_bits, "columns_per_adc": pim.columns_per_adc},
            "units": UNITS, "skipped_layers": skipped, "totals": network_totals(mapped)} | (
        {"layers": [m.to_dict() for m in mapped]} if per_layer else {})
