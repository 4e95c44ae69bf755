"""Energy breakdowns of evaluated layers (``Result.to_dict()`` records), by level and by data type,
per layer and summed over a network.

Level categories follow the seeds' normalized energy table (seed 000 "Data Movement is
Expensive", seed 001 slide 27): DRAM, buffer (on-chip SRAM), array (the network of a fanout:
words delivered to or collected from PEs), RF (register files inside the PE) and ALU (the MACs).
Data types follow the GoogLeNet pie of seed 001 (Yang et al., CVPR 2017): output fmap (psums
included), input fmap, weights, and computation.
"""

from __future__ import annotations

from loopnest.arch.spec import Architecture

CATEGORIES = ("DRAM", "buffer", "array", "RF", "ALU")
DATA_TYPES = ("outputs", "inputs", "weights", "computation")  # the seed's pie order
_CLASS_CATEGORY = {"dram": "DRAM", "sram": "buffer", "regfile": "RF", "register": "RF"}


def level_categories(arch: Architecture) -> dict[str, str]:
    """Key of ``energy_by_level_pj`` -> category: levels by storage class, ``<level>.network``
    -> array, the compute unit -> ALU."""
    out = {lv.name: _CLASS_CATEGORY[lv.cls] for lv in arch.levels}
    out.update({f"{lv.name}.network": "array" for lv in arch.levels if lv.fanout is not None})
    out[arch.compute.name] = "ALU"
    return out


def by_category(record: dict, arch: Architecture) -> dict[str, float]:
    """Energy of one layer per category (the record's energy units), every category present."""
    cats = level_categories(arch)
    out = dict.fromkeys(CATEGORIES, 0.0)
    for key, e in record["energy_by_level_pj"].items():
        out[cats[key]] += e
    return out


def by_data_type(record: dict) -> dict[str, float]:
    """Energy of one layer per data type: storage and network energy per tensor; computation is
    the rest of the layer's energy (the MACs). Works on ``Result.to_dict()`` records and on the
    layer rows of ``loopnest evaluate --json``."""
    t = record["energy_by_tensor_pj"]
    return {"outputs": t["outputs"], "inputs": t["inputs"], "weights": t["weights"],
            "computation": record["energy_pj"] - sum(t.values())}


def dram_words(record: dict, arch: Architecture) -> int:
    """Words read, filled or updated at the DRAM-class levels (all tensors)."""
    dram = {lv.name for lv in arch.levels if lv.cls == "dram"}
    return sum(sum(a for k, a in c.items() if k != "network")
               for lv in record["levels"] if lv["name"] in dram for c in lv["counts_words"].values())


def total(parts: list[dict[str, float]]) -> dict[str, float]:
    """Key-wise sum of breakdowns (keys in first-seen order)."""
    out: dict[str, float] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out


def shares(part: dict[str, float]) -> dict[str, float]:
    """Each entry as a percentage of the sum."""
    s = sum(part.values())
    return {k: 100.0 * v / s if s else 0.0 for k, v in part.items()}


def per_mac(part: dict[str, float], macs: int) -> dict[str, float]:
    return {k: v / macs for k, v in part.items()}


def network_breakdown(model: str, records: list[dict], arch: Architecture) -> dict:
    """Per layer and for the whole network: energy by level (the arch's own levels, networks and
    MACs), by category and by data type, with the data-type shares (the seed's pie)."""
    layers = [{"layer": r["layer"], "macs": r["macs"], "energy": r["energy_pj"], "by_level": dict(r["energy_by_level_pj"]),
               "by_category": by_category(r, arch), "by_type": by_data_type(r)} for r in records]
    by_type = total([l["by_type"] for l in layers])
    return {
        "model": model, "arch": arch.name, "energy_units": arch.energy_units, "layers": layers,
        "macs": sum(l["macs"] for l in layers), "energy": sum(l["energy"] for l in layers),
        "total_by_level": total([l["by_level"] for l in layers]),
        "total_by_category": total([l["by_category"] for l in layers]),
        "total_by_type": by_type, "type_shares_percent": shares(by_type),
    }
