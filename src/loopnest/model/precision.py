"""Prices of one layer on one architecture at the layer's bit widths (docs/model.md, "Precision").

The counts of ``model.counts`` are values (tensor elements). A value of ``b`` bits costs
``Storage.words_per_value(b)`` word accesses at a level (the packing rule of ``arch.spec``), so

- storage energy per value = (energy per block access / block_words) * words per value;
- network energy per value = fanout energy per word * b / word_bits (wires cost per bit);
- a footprint of n values takes ``Storage.words_for(n, b)`` words of the level's capacity;
- bandwidth is in words: values * words per value;
- MAC energy = the architecture's MAC energy * ``mac_pj(a, w, acc)`` / ``mac_pj`` at the
  architecture's native widths, where a and w are the operands' MAC widths (``Tensor.mac_bits``)
  and acc the accumulator width (the outputs' ``compute_bits``, else the architecture's). An
  analog (PIM) MAC keeps its own bit-serial model.

Partial sums: outputs are stored at the accumulator width (``Tensor.mac_bits`` of the outputs)
at every level at or below the outermost level where partial sums are read back or refilled (a
per-mapping flag), at their own width elsewhere. When every width equals the level's word and
the MAC's native widths, every factor is exactly 1: the prices are the architecture's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopnest.arch.laws import mac_pj
from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import MappingError
from loopnest.workload.problem import ROLES, Problem

_ACTIONS = ("read", "write", "update")


@dataclass(frozen=True, eq=False)
class Prices:
    """pJ per value and words per value of one layer on one architecture."""

    bits: tuple[int, int, int]  # stored bits per role (ROLES order)
    psum_bits: int  # partial sums (accumulator width), at least the outputs' bits
    words: np.ndarray  # (L, 3) words per value access at the stored widths
    psum_words: np.ndarray  # (L,) words per partial-sum access
    storage: np.ndarray  # (L, 3, 3) pJ per value [level, role, read | write | update]
    psum_storage: np.ndarray  # (L, 3) pJ per partial-sum value [level, read | write | update]
    network: np.ndarray  # (L, 3) pJ per value crossing the fanout below each level (0: no fanout)
    psum_network: np.ndarray  # (L,) pJ per partial sum crossing it
    mac_pj: float
    native: bool  # every value one word, partial sums as wide as outputs: no conversion needed

    @property
    def psums_differ(self) -> bool:
        return self.psum_bits != self.bits[ROLES.index("outputs")]

    def energy(self, level: int, role: str, action: str) -> float:
        """pJ per value of ``role`` at ``level`` for a read, write or update (stored width)."""
        return float(self.storage[level, ROLES.index(role), _ACTIONS.index(action)])


def prices(problem: Problem, arch: Architecture) -> Prices:
    """The layer's prices on ``arch`` (a resolved architecture: energies filled in)."""
    bits = tuple(problem.tensor(r).bits for r in ROLES)
    psum_bits = problem.tensor("outputs").mac_bits
    L = len(arch.levels)
    words = np.array([[lv.words_per_value(b) for b in bits] for lv in arch.levels])
    psum_words = np.array([lv.words_per_value(psum_bits) for lv in arch.levels])
    per_word = np.zeros((L, 3, 3))
    fan = np.zeros(L)
    for l, lv in enumerate(arch.levels):
        try:
            per_word[l] = [[lv.energy_of(role, a) / lv.block_words for a in _ACTIONS] for role in ROLES]
        except (ValueError, KeyError):
            raise MappingError(f"level {lv.name}: energy_pj needs read, write and update (load the architecture with load_arch to resolve it)") from None
        if lv.fanout is not None:
            fan[l] = lv.fanout.energy_pj or 0.0
    wb = np.array([lv.word_bits for lv in arch.levels], float)
    native = bool((words == 1).all()) and psum_bits == bits[ROLES.index("outputs")]
    out = ROLES.index("outputs")
    return Prices(
        bits=bits, psum_bits=psum_bits, words=words, psum_words=psum_words,
        storage=per_word * words[:, :, None], psum_storage=per_word[:, out] * psum_words[:, None],
        network=fan[:, None] * (np.array(bits)[None, :] / wb[:, None]), psum_network=fan * psum_bits / wb,
        mac_pj=mac_energy_pj(problem, arch), native=native)


def mac_energy_pj(problem: Problem, arch: Architecture) -> float:
    """pJ per MAC at the layer's operand and accumulator widths (module docstring)."""
    c = arch.compute
    e = c.energy_pj or 0.0
    acc0 = c.accumulator_bits or c.operand_bits
    out = problem.tensor("outputs")
    widths = (problem.tensor("inputs").mac_bits, problem.tensor("weights").mac_bits,
              acc0 if out.compute_bits is None else out.compute_bits)
    if c.pim is not None or widths == (c.operand_bits, c.operand_bits, acc0):
        return e
    return e * mac_pj(*widths, c.arithmetic) / mac_pj(c.operand_bits, c.operand_bits, acc0, c.arithmetic)


def psum_levels(p: Prices, reads: np.ndarray, fills: np.ndarray) -> np.ndarray | None:
    """(L, B) bool: the levels whose outputs are partial sums (at or below the outermost level
    with an output read-back or refill), from the outputs' counts (L, B); None if the widths agree."""
    if not p.psums_differ:
        return None
    return np.logical_or.accumulate((reads > 0) | (fills > 0), axis=0)


def tile_words(arch: Architecture, p: Prices, tiles: np.ndarray, psum: np.ndarray | None) -> np.ndarray:
    """Footprints (L, 3, B) in values -> words of each level (packing rule); ``tiles`` itself
    where every value is one word."""
    if p.native:
        return tiles
    out = np.empty(tiles.shape, np.int64)
    t_out = ROLES.index("outputs")
    for l, lv in enumerate(arch.levels):
        for t, b in enumerate(p.bits):
            out[l, t] = lv.words_for(tiles[l, t].astype(np.int64), b)
        if psum is not None:
            wide = lv.words_for(tiles[l, t_out].astype(np.int64), p.psum_bits)
            out[l, t_out] = np.where(psum[l], wide, out[l, t_out])
    return out
