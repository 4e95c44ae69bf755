"""Queries a component model answers: one memory instance (or partition), one MAC, one wire."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemoryQuery:
    """One instance (or one partition) of a storage level."""

    cls: str  # dram | sram | regfile | register
    capacity_words: int | None  # None: unbounded
    word_bits: int
    block_words: int
    technology_nm: float

    @property
    def capacity_bits(self) -> int | None:
        return None if self.capacity_words is None else self.capacity_words * self.word_bits

    @property
    def block_bits(self) -> int:
        return self.block_words * self.word_bits


@dataclass(frozen=True)
class MacQuery:
    operand_bits: int
    accumulator_bits: int
    arithmetic: str  # int | fp | analog
    technology_nm: float


@dataclass(frozen=True)
class WireQuery:
    """Delivering one word to one child ``length_mm`` away (about one child's pitch)."""

    word_bits: int
    length_mm: float
    children: int
    technology_nm: float
