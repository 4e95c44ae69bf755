"""Architecture spec: storage levels listed outer -> inner, fanouts between them, one compute unit.

Units: energy in pJ per action, area in um^2, capacity in words of ``word_bits`` bits,
bandwidth in words per cycle per instance, clock in MHz.

Energy rule: an entry of ``energy_pj`` is the energy of one access of one block of
``block_words`` words. The model charges ``words / block_words`` block accesses per action
(perfect coalescing: consecutive words of a tile share a block access).
"""

from __future__ import annotations

from math import prod
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from loopnest.workload.problem import ROLES, Role

ACTIONS = ("read", "write", "update")
StorageClass = Literal["dram", "sram", "regfile", "register"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fanout(_Strict):
    """The network from one storage level to the X x Y instances of the next level inward."""

    x: PositiveInt = 1
    y: PositiveInt = 1
    multicast: bool = True
    reduction: bool = False
    energy_pj: float | None = Field(default=None, ge=0, description="pJ per word delivered to or collected from one child")
    area_um2: float | None = Field(default=None, ge=0)

    @property
    def size(self) -> int:
        return self.x * self.y


class Storage(_Strict):
    """A storage level. ``capacity_words`` None means unbounded (DRAM)."""

    name: str = Field(min_length=1)
    cls: StorageClass = Field(default="sram", alias="class")
    capacity_words: PositiveInt | None = None
    partitions: dict[Role, PositiveInt] | None = None
    word_bits: PositiveInt = 16
    block_words: PositiveInt = 1
    read_bandwidth: float | None = Field(default=None, gt=0, description="words/cycle per instance")
    write_bandwidth: float | None = Field(default=None, gt=0, description="words/cycle per instance")
    keeps: tuple[Role, ...] = ROLES
    double_buffered: bool = False
    energy_pj: dict[Literal["read", "write", "update"], float] | None = None
    area_um2: float | None = Field(default=None, ge=0)
    fanout: Fanout | None = None

    @model_validator(mode="after")
    def _check(self) -> "Storage":
        if self.partitions is not None:
            extra = set(self.partitions) - set(self.keeps)
            if extra:
                raise ValueError(f"partitions for tensors this level may not hold: {sorted(extra)}")
        cap = self.capacity_words if self.partitions is None else min(self.partitions.values())
        if cap is not None and cap < self.block_words:
            raise ValueError(f"capacity {cap} words is smaller than one block of {self.block_words} words")
        return self

    def capacity_of(self, role: Role) -> int | None:
        """Usable capacity for one tensor's partition, or the shared capacity."""
        cap = self.partitions.get(role) if self.partitions is not None else self.capacity_words
        if cap is not None and self.double_buffered:
            cap //= 2
        return cap


class Compute(_Strict):
    name: str = "MAC"
    operand_bits: PositiveInt = 16
    energy_pj: float | None = Field(default=None, ge=0, description="pJ per MAC")
    area_um2: float | None = Field(default=None, ge=0)


class Architecture(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    technology_nm: PositiveInt = 65
    clock_mhz: float = Field(default=200.0, gt=0)
    energy_table: str | None = None
    levels: tuple[Storage, ...] = Field(min_length=1)
    compute: Compute = Compute()

    @model_validator(mode="after")
    def _check(self) -> "Architecture":
        names = [lv.name for lv in self.levels]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"level names must be unique, repeated: {sorted(dup)}")
        for role in ROLES:
            if not any(role in lv.keeps for lv in self.levels):
                raise ValueError(f"no level may hold {role}: every tensor needs a home")
        if self.levels[0].capacity_words is None and self.levels[0].partitions is None:
            pass  # unbounded outermost level: the usual DRAM
        for lv in self.levels[1:]:
            if lv.capacity_words is None and lv.partitions is None:
                raise ValueError(f"level {lv.name!r}: only the outermost level may be unbounded (give capacity_words)")
        return self

    def instances(self, level: int) -> int:
        """Number of instances of level ``level``: product of the fanouts above it."""
        return prod(lv.fanout.size for lv in self.levels[:level] if lv.fanout is not None)

    @property
    def pes(self) -> int:
        """Number of MAC units: product of all fanouts."""
        return self.instances(len(self.levels))

    def level_index(self, name: str) -> int:
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        raise KeyError(f"no level named {name!r}; levels are {[lv.name for lv in self.levels]}")
