"""One evaluated mapping that explains itself: mapping, counts, energies, cycles and their bound."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import (
    Mapping,
    MappingBatch,
    MappingError,
    padded_dims,
    validate_structure,
)
from loopnest.model.costs import BatchCosts, evaluate_batch
from loopnest.model.precision import tile_words
from loopnest.workload.problem import ROLES, Problem

ACTIONS = ("reads", "fills", "updates")


@dataclass
class Result:
    """Costs of one mapping. Units: energy pJ, counts in words, cycles in clock cycles."""

    problem: Problem
    arch: Architecture
    mapping: Mapping
    batch: MappingBatch  # the mapping as arrays, a batch of one
    costs: BatchCosts

    @property
    def macs(self) -> int:
        return self.problem.macs

    @property
    def energy_pj(self) -> float:
        return float(self.costs.energy_pj[0])

    @property
    def leakage_energy_pj(self) -> float:
        """Static energy over the modeled runtime (pJ); 0 where no component states ``leakage_mw``."""
        return float(self.costs.leakage_energy_pj[0])

    def leakage_by_component_pj(self) -> dict[str, float]:
        """Static energy per component (mW x cycles / clock MHz x 1e3 = pJ)."""
        return {k: mw * self.cycles * 1e3 / self.arch.clock_mhz for k, mw in self.arch.leakage_mw().items()}

    @property
    def gated_macs(self) -> float:
        """MACs gated on a zero operand (expected): they keep their cycle, not their energy."""
        return 0.0 if self.costs.sparse is None else self.costs.sparse.gated_macs

    @property
    def actual_macs(self) -> float:
        """MACs performed (expected): the algorithmic MACs less the gated and skipped ones."""
        return self.macs if self.costs.sparse is None else self.costs.sparse.actual_macs

    def actual_accesses(self, level: int) -> float:
        """Values read, filled and updated at ``level`` (all tensors) that are actually moved,
        plus metadata words: the algorithmic accesses where nothing is sparse."""
        sp = self.costs.sparse
        if sp is None:
            return float(self.costs.accesses_by_level[0, level])
        return float(sp.actual[0, level].sum() + sp.metadata[0, level].sum())

    def traffic_bits(self, level: int) -> float:
        """Bits read, filled and updated at ``level``: every tensor's (actual) values times its
        width, plus the metadata words times the level's ``sparse.metadata_bits`` (so a
        compressed stream counts what it moves, run lengths and coordinates included)."""
        bits = np.array([self.problem.tensor(r).bits for r in ROLES], float)
        sp = self.costs.sparse
        if sp is None:
            c = self.costs.counts
            return float((c.reads + c.fills + c.updates)[0, level].astype(float) @ bits)
        lv = self.arch.levels[level]
        meta_bits = lv.sparse.metadata_bits if lv.sparse is not None else 0
        return float(sp.actual[0, level].sum(axis=1) @ bits + sp.metadata[0, level].sum() * meta_bits)

    def sparse_dict(self) -> dict | None:
        """Actual vs algorithmic MACs and per level, tensor and action the actual, gated and skipped
        counts and the metadata words (None where nothing is sparse)."""
        sp = self.costs.sparse
        if sp is None:
            return None
        per = {lv.name: {r: {a: {"algorithmic": int(getattr(self.costs.counts, a)[0, l, t]),
                                  "actual": float(sp.actual[0, l, t, k]), "gated": float(sp.gated[0, l, t, k]),
                                  "skipped": float(sp.skipped[0, l, t, k]), "metadata_words": float(sp.metadata[0, l, t, k])}
                              for k, a in enumerate(ACTIONS)} for t, r in enumerate(ROLES)}
               for l, lv in enumerate(self.arch.levels)}
        return {"densities": {t.role: str(t.density) if t.density is not None else "1" for t in self.problem.tensors},
                "algorithmic_macs": self.macs, "actual_macs": sp.actual_macs, "gated_macs": sp.gated_macs,
                "skipped_macs": sp.skipped_macs, "energy_per_nonzero_mac_pj": self.energy_pj / max(sp.actual_macs, 1e-300),
                "dram_accesses_per_nonzero_mac": self.actual_accesses(0) / max(sp.actual_macs, 1e-300),
                "levels": per}

    @property
    def cycles(self) -> float:
        return float(self.costs.cycles[0])

    @property
    def bound(self) -> str:
        b = int(self.costs.bound[0])
        return "compute" if b < 0 else f"{self.arch.levels[b].name} bandwidth"

    @property
    def utilization(self) -> float:
        return float(self.costs.utilization[0])

    def count(self, level: str, role: str, action: str) -> int:
        """Values of ``role`` at ``level`` for ``action`` in reads | fills | updates | network
        (words where a value takes one word; ``words`` converts at the tensor's bit width)."""
        arr = getattr(self.costs.counts, action)
        return int(arr[0, self.arch.level_index(level), ROLES.index(role)])

    def words(self, level: str, role: str, action: str) -> float:
        """Word accesses of ``role`` at ``level`` for ``action``: values times words per value
        (the packing rule; fractional where a packed word serves part of a tile)."""
        l, t = self.arch.level_index(level), ROLES.index(role)
        return self.count(level, role, action) * float(self.costs.words_per_value(0)[l, t])

    def traffic_bytes(self, level: str, role: str) -> float:
        """Bytes read, filled and updated at ``level`` for ``role``: words times word_bits / 8."""
        return sum(self.words(level, role, a) for a in ACTIONS) * self.arch.levels[self.arch.level_index(level)].word_bits / 8

    def _tile_words(self) -> np.ndarray:
        """(L, 3) the tiles in words of each level (packed at the tensors' widths)."""
        return _footprints(self.arch, self.costs)[:, :, 0]

    def energy_by_level_pj(self) -> dict[str, float]:
        """Storage energy per level, network energy per fanout (``<level>.network``), and MACs."""
        out: dict[str, float] = {}
        for l, lv in enumerate(self.arch.levels):
            out[lv.name] = float(self.costs.storage_energy_pj[0, l].sum())
            if lv.fanout is not None:
                out[f"{lv.name}.network"] = float(self.costs.network_energy_pj[0, l].sum())
        out[self.arch.compute.name] = float(self.costs.compute_energy_pj)
        return out

    def energy_by_tensor_pj(self) -> dict[str, float]:
        per = self.costs.storage_energy_pj[0].sum(axis=0) + self.costs.network_energy_pj[0].sum(axis=0)
        return {role: float(e) for role, e in zip(ROLES, per)}

    def to_dict(self) -> dict:
        c = self.costs.counts
        levels = []
        per_value = self.costs.words_per_value(0)
        footprint = self._tile_words()
        for l, lv in enumerate(self.arch.levels):
            levels.append({
                "name": lv.name,
                "active_instances": int(c.active[0, l]),
                "tile_words": {r: int(footprint[l, t]) for t, r in enumerate(ROLES) if self.batch.keep[0, l, t]},
                "counts_words": {r: {a: int(getattr(c, a)[0, l, t]) for a in ACTIONS + ("network",)} for t, r in enumerate(ROLES)},
                "energy_pj": {r: float(self.costs.storage_energy_pj[0, l, t]) for t, r in enumerate(ROLES)},
                "network_energy_pj": {r: float(self.costs.network_energy_pj[0, l, t]) for t, r in enumerate(ROLES)},
                "capacity_ok": bool(self.costs.capacity_ok[0, l]),
                "words_per_value": {r: float(per_value[l, t]) for t, r in enumerate(ROLES)},
                "traffic_bytes": {r: self.traffic_bytes(lv.name, r) for r in ROLES},
            })
        return {
            "layer": self.problem.name,
            "arch": self.arch.name,
            "macs": self.macs,
            "bits": {t.role: t.bits for t in self.problem.tensors},
            "mac_bits": {t.role: t.mac_bits for t in self.problem.tensors},
            "mapping": self.mapping.to_dict(self.arch, self.problem),
            "levels": levels,
            "energy_units": self.arch.energy_units,  # "pJ", or normalized units of the arch's energy table
            "energy_pj": self.energy_pj,
            "energy_per_mac_pj": self.energy_pj / self.macs,
            "energy_by_level_pj": self.energy_by_level_pj(),
            "energy_by_tensor_pj": self.energy_by_tensor_pj(),
            "compute_energy_pj": float(self.costs.compute_energy_pj),
            "leakage_energy_pj": self.leakage_energy_pj,  # static: beside energy_pj (dynamic), not in it
            "leakage_by_component_pj": self.leakage_by_component_pj(),
            "total_energy_pj": self.energy_pj + self.leakage_energy_pj,
            "cycles": self.cycles,
            "compute_cycles": int(c.compute_cycles[0]),
            # systolic pipeline fill/drain, inside "cycles" (0 without a systolic fanout)
            "fill_drain_cycles": 0.0 if self.costs.fill_drain_cycles is None else float(self.costs.fill_drain_cycles[0]),
            "bound": self.bound,
            "utilization": self.utilization,
            "pes": self.arch.pes,
            "actual_macs": self.actual_macs,
            "sparse": self.sparse_dict(),
        }


def evaluate(problem: Problem, arch: Architecture, mapping: Mapping, check_capacity: bool = True) -> Result:
    """Evaluate one mapping; raises MappingError naming what does not fit.

    A systolic array's partial last fold (``mapping.padded_dims`` past the layer's sizes) is costed
    as the padded layer: cycles as the array spends them (a partial fold takes a full fold's time,
    SCALE-Sim's rule), storage and network counts those of the padded layer (an upper bound: the
    idle rows and columns are charged as if they moved data), while the MACs, their energy and the
    utilization are the layer's own."""
    validate_structure(mapping, problem, arch)
    batch = MappingBatch.from_mappings([mapping], problem, arch)
    dims = {d: n for d, n in padded_dims(mapping, problem, arch).items() if _on_systolic(mapping, arch, d)}
    padded = problem if all(n == problem.dims[d] for d, n in dims.items()) else replace(problem, dims=problem.dims | dims)
    costs = evaluate_batch(padded, arch, batch)
    if padded is not problem:  # both are linear in the MACs
        costs.compute_energy_pj *= problem.macs / padded.macs
        costs.utilization *= problem.macs / padded.macs
    if check_capacity and not costs.capacity_ok[0].all():
        l = int(np.argmin(costs.capacity_ok[0]))
        lv = arch.levels[l]
        words = _footprints(arch, costs)
        tiles = {r: int(words[l, t, 0]) for t, r in enumerate(ROLES) if batch.keep[0, l, t]}
        for role in arch.resident if l == 1 else ():
            t, whole = ROLES.index(role), problem.size(problem.tensor(role))
            if not batch.keep[0, 1, t] or costs.counts.tiles[0, 1, t] != whole:
                raise MappingError(f"level {lv.name} holds {role} whole between layers (resident): its tile must be the "
                                   f"whole tensor, {whole} values, not {int(costs.counts.tiles[0, 1, t]) if batch.keep[0, 1, t] else 'bypassed'}")
        cap = lv.partitions if lv.partitions is not None else lv.capacity_words
        dbl = " (double-buffered: half usable)" if lv.double_buffered else ""
        held = " (dense: the check counts what the sparse formats store, metadata included)" if costs.sparse is not None else ""
        raise MappingError(f"level {lv.name}: tiles {tiles} words{held} do not fit its capacity {cap} words{dbl}")
    return Result(problem, arch, mapping, batch, costs)


def _on_systolic(mapping: Mapping, arch: Architecture, d: str) -> bool:
    """Is d unrolled on a systolic fanout (its partial last fold costed padded, not clipped)?"""
    return any(lv.fanout is not None and lv.fanout.systolic is not None and (d in lm.spatial_x or d in lm.spatial_y)
               for lv, lm in zip(arch.levels, mapping.levels))


def _footprints(arch: Architecture, costs: BatchCosts) -> np.ndarray:
    """(L, 3, 1) the first mapping's tiles in words (the packing rule at the tensors' widths)."""
    return tile_words(arch, costs.prices, costs.counts.tiles[:1].transpose(1, 2, 0),
                      None if costs.psum is None else costs.psum[:1].T)
