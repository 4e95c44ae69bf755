"""Architecture spec: storage levels listed outer -> inner, fanouts between them, one compute unit.

Units: energy in pJ per action (or normalized units, see ``Architecture.energy_units``), area in
um^2 per instance, capacity in words of ``word_bits`` bits, bandwidth in words per cycle per
instance, clock in MHz, technology node in nm.

Energy rule: an entry of ``energy_pj`` is the energy of one access of one block of
``block_words`` words. The model charges ``words / block_words`` block accesses per action
(perfect coalescing: consecutive words of a tile share a block access). ``update`` is the write
of an accumulated partial sum (the read of the old value is charged as a ``read``).

Packing rule (a tensor of ``b`` bits on a level of ``word_bits`` W; docs/model.md, "Precision"):
``packing: word`` (default on chip) packs floor(W / b) values into a word, so a footprint of n
values takes ceil(n / floor(W / b)) words and each value access costs 1 / floor(W / b) of a word
access (Accelergy's block size width / datawidth: one access serves the values of a word);
``packing: bit`` (default for DRAM, a byte stream) charges b / W words per value and
ceil(n * b / W) words per footprint; ``packing: none`` gives every value its own word(s). A value
wider than a word spans ceil(b / W) words (``bit``: b / W). b = W costs exactly one word per value.

Numeric fields also accept a string holding an arithmetic expression (``"108 * 1024 * 8 / 16"``),
evaluated by the safe evaluator of ``loopnest.arch.expr`` (never ``eval``).
"""

from __future__ import annotations

import json
from math import ceil, prod
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from loopnest.arch.expr import numeric_field
from loopnest.arch.fields import Action, NonNegFloat, Num as _Num, PosFloat, PosInt, Strict as _Strict
from loopnest.arch.pim import PimArray
from loopnest.arch.sparse_spec import COMPRESSED, FORMATS, ComputeSparse, Format, SparseAction, StorageSparse  # noqa: F401 (re-exported)
from loopnest.names import plain
from loopnest.workload.problem import ROLES, Role

ACTIONS = ("read", "write", "update")
StorageClass = Literal["dram", "sram", "regfile", "register"]
Packing = Literal["word", "bit", "none"]
Operand = Literal["inputs", "weights"]
Axis = Literal["x", "y"]

class Fanout(_Strict):
    """The network from one storage level to the X x Y instances of the next level inward."""

    x: PosInt = 1
    y: PosInt = 1
    multicast: bool | list[Operand] | dict[Axis, bool | list[Operand]] = Field(
        default=True, description="one read may feed several children: true | false for every operand on both "
        "axes, a list of operands (inputs, weights), or per axis {x: ..., y: ...}")
    reduction: bool | dict[Axis, bool] = Field(
        default=False, description="partial sums may be reduced across children: true | false, or per axis {x: ..., y: ...}")
    energy_pj: NonNegFloat | None = Field(default=None, description="pJ per word delivered to or collected from one child")
    area_um2: NonNegFloat | None = Field(default=None, description="um^2 of the network below one parent instance")
    window_union: bool = Field(
        default=True, description="children whose operand windows overlap (a sliding window split across them) "
        "share one read of the overlap (the union tile); false: each child's window is read whole, as Timeloop "
        "and AccelForge count it")
    min_usage: Annotated[float, _Num, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(
        default=None, description="the least fraction of the x * y instances a mapping must use (AccelForge's "
        "min_usage): mappings using fewer are invalid, and the mapper does not consider them")
    systolic: Literal["ws", "is", "os"] | None = Field(
        default=None, description="a systolic array of x rows and y columns with this dataflow: each fold adds its "
        "pipeline fill and drain, 2x + y - 2 cycles (ws, is) or x + y - 2 (os) (docs/model.md, Cycles)")

    @property
    def size(self) -> int:
        return self.x * self.y

    def shares(self, role: Role) -> tuple[bool, bool]:
        """(X, Y): whether each axis multicasts ``role`` (an operand) or reduces it (the outputs)."""
        if role == "outputs":
            r = self.reduction
            return (r, r) if isinstance(r, bool) else (r.get("x", False), r.get("y", False))
        m = self.multicast
        per_axis = (m.get("x", False), m.get("y", False)) if isinstance(m, dict) else (m, m)
        return tuple(a if isinstance(a, bool) else role in a for a in per_axis)

    @property
    def shares_all(self) -> bool:
        """Both axes multicast every operand and reduce the outputs (Timeloop's and ZigZag's network)."""
        return all(all(self.shares(r)) for r in ROLES)

    @field_validator("multicast", "reduction", mode="before")
    @classmethod
    def _sharing(cls, v: Any, info: ValidationInfo) -> Any:
        """One line naming every allowed form (pydantic's union errors name none of them)."""
        allowed = ("inputs", "weights") if info.field_name == "multicast" else ()
        ok = lambda a: isinstance(a, bool) or (bool(allowed) and isinstance(a, list) and set(a) <= set(allowed))
        if ok(v) or (isinstance(v, dict) and set(v) <= {"x", "y"} and all(ok(a) for a in v.values())):
            return v
        form = "true, false, a list of operands (inputs, weights)" if allowed else "true, false"
        got = f"; got {json.dumps(v)}" if isinstance(v, (dict, list)) else ""  # the loader shows a scalar itself
        raise ValueError(f"must be {form}, or per axis {{x: ..., y: ...}} of those{got}")

    @property
    def min_instances(self) -> int:
        """The fewest instances a mapping may use under ``min_usage`` (1 without it)."""
        return self.least_instances(self.min_usage)

    def least_instances(self, usage: float | None) -> int:
        """``ceil(usage * x * y)`` (1 for None); the product is rounded to 9 decimals first, so 0.3
        of 10 is 3, not 4."""
        return 1 if usage is None else ceil(round(usage * self.size, 9))

    @property
    def fill_drain_cycles(self) -> int:
        """Cycles one fold of a systolic array spends beyond its ``T`` streaming steps (0 if not
        systolic): SCALE-Sim's per-fold ``2 S_R + S_C + T - 2`` for WS and IS (the stationary operand
        is preloaded down the ``S_R`` rows, then the skewed wavefront crosses ``S_R + S_C - 2``) and
        ``S_R + S_C + T - 2`` for OS (measured on SCALE-Sim 3.0.0, docs/model.md), with ``S_R = x``
        (SCALE-Sim's ArrayHeight) and ``S_C = y`` (ArrayWidth)."""
        if self.systolic is None:
            return 0
        return (self.x if self.systolic != "os" else 0) + self.x + self.y - 2


class Storage(_Strict):
    """A storage level. ``capacity_words`` None (and no partitions) means unbounded (DRAM).

    ``partitions`` gives separate capacities per tensor (Eyeriss's three scratchpads); then
    ``capacity_words`` is their sum. ``instances``, when stated, must equal the product of the
    fanouts above (or, where the level above states no fanout, it defines that fanout).
    ``energy_pj_by_role`` holds per-partition energies when the partitions differ in size.
    ``resident`` (level 1 only) names tensors this level holds whole between layers, as the TPU's
    unified buffer holds activations: they do not cross the outermost level (docs/model.md).
    """

    name: str = Field(min_length=1)
    cls: StorageClass = Field(default="sram", alias="class")
    capacity_words: PosInt | None = None
    partitions: dict[Role, PosInt] | None = None
    word_bits: PosInt = 16
    packing: Packing | None = Field(default=None, description="values of narrower tensors per word: word | bit | none; default bit for dram, else word")
    block_words: PosInt = 1
    read_bandwidth: PosFloat | None = Field(default=None, description="words/cycle per instance")
    write_bandwidth: PosFloat | None = Field(default=None, description="words/cycle per instance")
    keeps: tuple[Role, ...] = ROLES
    resident: tuple[Role, ...] = Field(default=(), description="tensors held here whole between layers (level 1 only)")
    double_buffered: bool = False
    drain_reads: bool = Field(default=False, description="charge a read of this level for each output value it writes "
                              "back to its parent (AccelForge's convention; Timeloop's and the default: not charged)")
    instances: PosInt | None = None
    mesh_x: PosInt | None = None
    energy_pj: dict[Action, NonNegFloat] | None = None
    energy_pj_by_role: dict[Role, dict[Action, NonNegFloat]] | None = None
    area_um2: NonNegFloat | None = Field(default=None, description="um^2 of one instance")
    leakage_mw: NonNegFloat | None = Field(default=None, description="static (leakage) power of one instance, mW")
    fanout: Fanout | None = None
    sparse: StorageSparse | None = None

    @model_validator(mode="after")
    def _check(self) -> Storage:
        if not self.keeps:
            raise ValueError(f"keeps must name at least one of {plain(ROLES)}")
        if len(set(self.keeps)) != len(self.keeps):
            raise ValueError(f"keeps lists a tensor twice: {plain(self.keeps)}")
        stray = [r for r in self.resident if r not in self.keeps]
        if stray:
            raise ValueError(f"resident: {plain(stray)} not in keeps {plain(self.keeps)} (a level holds only what it keeps)")
        if self.partitions is not None:
            extra = set(self.partitions) - set(self.keeps)
            if extra:
                raise ValueError(f"partitions for tensors this level may not hold: {plain(sorted(extra))}; keeps is {plain(self.keeps)}")
            missing = [r for r in self.keeps if r not in self.partitions]
            if missing:
                raise ValueError(f"partitions give no capacity for kept tensors {missing}: add a partition or drop them from keeps")
            total = sum(self.partitions.values())
            if self.capacity_words is not None and self.capacity_words != total:
                raise ValueError(f"capacity_words {self.capacity_words} differs from the sum of the partitions ({total})")
        for role in ROLES:
            cap = self.capacity_of(role)
            if role in self.keeps and cap is not None and cap < self.block_words:
                what = f"partitions.{role}" if self.partitions is not None else "capacity_words"
                usable = " (half of it usable: double_buffered)" if self.double_buffered else ""
                raise ValueError(f"{what}: {cap} words{usable} is smaller than one block (block_words {self.block_words})")
        if self.sparse is not None:
            self._check_sparse(self.sparse)
        return self

    def _check_sparse(self, sp: StorageSparse) -> None:
        for role in sp.formats:
            if role not in self.keeps:
                raise ValueError(f"sparse.formats.{role}: this level does not keep {role}; keeps is {list(self.keeps)}")
        if any(f != "uncompressed" for r in sp.formats for f in sp.ranks_of(r)) and sp.metadata_bits > self.word_bits:
            raise ValueError(f"sparse.metadata_bits: {sp.metadata_bits} bits is wider than the level's word (word_bits {self.word_bits})")
        for kind in ("gating", "skipping"):
            for i, a in enumerate(getattr(sp, kind)):
                if a.target not in self.keeps:
                    raise ValueError(f"sparse.{kind}[{i}].target: this level does not keep {a.target}; keeps is {list(self.keeps)}")
        targets = [a.target for a in sp.gating + sp.skipping]
        dup = sorted({t for t in targets if targets.count(t) > 1})
        if dup:
            raise ValueError(f"sparse: {dup[0]} is the target of more than one gating/skipping entry; give one entry with all its leaders")

    def metadata_energy_of(self, role: Role, action: Action) -> float:
        """pJ per metadata word access (``sparse.metadata_energy_pj``, else the data energy per word
        times metadata_bits / word_bits)."""
        sp = self.sparse
        if sp is not None and sp.metadata_energy_pj is not None and action in sp.metadata_energy_pj:
            return sp.metadata_energy_pj[action]
        bits = sp.metadata_bits if sp is not None else self.word_bits
        return self.energy_of(role, action) / self.block_words * bits / self.word_bits

    @property
    def total_words(self) -> int | None:
        """All words this level stores (partitions summed), None if unbounded."""
        if self.partitions is not None:
            return sum(self.partitions.values())
        return self.capacity_words

    def capacity_of(self, role: Role) -> int | None:
        """Usable capacity for one tensor's partition, or the shared capacity."""
        cap = self.partitions.get(role) if self.partitions is not None else self.capacity_words
        if cap is not None and self.double_buffered:
            cap //= 2
        return cap

    @property
    def packing_rule(self) -> Packing:
        """The packing in force: the stated one, else ``bit`` for DRAM and ``word`` on chip."""
        return self.packing or ("bit" if self.cls == "dram" else "word")

    def words_per_value(self, bits: int) -> float:
        """Words one access of a ``bits``-bit value costs on average (the packing rule above)."""
        rule, w = self.packing_rule, self.word_bits
        if rule == "bit":
            return bits / w
        if rule == "word" and bits <= w:
            return 1 / (w // bits)
        return float(-(-bits // w))

    def words_for(self, values, bits: int):
        """Words a footprint of ``values`` (an int or an integer array) ``bits``-bit values takes."""
        rule, w = self.packing_rule, self.word_bits
        if bits == w:
            return values
        if rule == "bit":
            return -(-values * bits // w)
        if rule == "word" and bits <= w:
            return -(-values // (w // bits))
        return values * -(-bits // w)

    def energy_of(self, role: Role, action: Action) -> float:
        """pJ per block access of ``action`` on ``role``'s data (its partition where they differ)."""
        if self.energy_pj_by_role is not None and role in self.energy_pj_by_role:
            return self.energy_pj_by_role[role][action]
        if self.energy_pj is None:
            raise ValueError(f"level {self.name!r} has no energy_pj: load it with load_arch to resolve it")
        return self.energy_pj[action]


class Compute(_Strict):
    """The MAC unit; its count is the product of all fanouts (``Architecture.pes``)."""

    name: str = "MAC"
    operand_bits: PosInt = 16
    accumulator_bits: PosInt | None = None
    arithmetic: Literal["int", "fp", "analog"] = "int"
    instances: PosInt | None = None
    mesh_x: PosInt | None = None
    energy_pj: NonNegFloat | None = Field(default=None, description="pJ per MAC")
    area_um2: NonNegFloat | None = Field(default=None, description="um^2 of one MAC")
    leakage_mw: NonNegFloat | None = Field(default=None, description="static (leakage) power of one MAC unit, mW")
    pim: PimArray | None = None
    sparse: ComputeSparse | None = None

    @model_validator(mode="after")
    def _check(self) -> Compute:
        if (self.arithmetic == "analog") != (self.pim is not None):
            raise ValueError("arithmetic 'analog' and a pim block go together: give both or neither")
        if self.pim is not None and self.pim.cells_per_weight * self.pim.bits_per_cell < self.operand_bits:
            raise ValueError(f"pim: {self.pim.cells_per_weight} cells of {self.pim.bits_per_cell} bits cannot hold a {self.operand_bits}-bit weight")
        return self

    @property
    def cycles_per_mac(self) -> int:
        """Cycles one MAC occupies its unit: bit-serial PIM inputs take several."""
        return 1 if self.pim is None else ceil(self.operand_bits / self.pim.dac_bits)


def _derive_fanouts(data: Any) -> Any:
    """Timeloop-style specs state ``instances`` (and ``mesh_x``) on the inner level instead of a
    fanout on the outer one: where the outer level has no fanout, derive it (it must divide).
    Stated instances that disagree with stated fanouts are reported by ``Architecture._check``."""
    if not isinstance(data, dict) or not isinstance(data.get("levels"), (list, tuple)):
        return data
    levels = [dict(lv) if isinstance(lv, dict) else lv for lv in data["levels"]]
    compute = dict(data["compute"]) if isinstance(data.get("compute"), dict) else None
    children = levels[1:] + [compute]
    above = 1
    for i, (parent, child) in enumerate(zip(levels, children)):
        if not isinstance(parent, dict):
            return data
        where = f"levels[{i + 1}]" if i + 1 < len(levels) else "compute"
        n = _count(child.get("instances")) if isinstance(child, dict) else None
        if parent.get("fanout") is None and n is not None:
            mx = _count(child.get("mesh_x", 1))
            if n % above:
                raise ValueError(f"{where}.instances: {n} is not a multiple of the {above} instances above: the fanout does not divide")
            if mx is not None and (n // above) % mx:
                raise ValueError(f"{where}.mesh_x: {mx} does not divide the fanout of {n // above}")
            parent["fanout"] = {"x": mx or 1, "y": n // above // (mx or 1)}
        fan = parent.get("fanout")
        size = 1 if fan is None else (_count(fan.get("x", 1)) if isinstance(fan, dict) else None)
        size_y = 1 if fan is None else (_count(fan.get("y", 1)) if isinstance(fan, dict) else None)
        if size is None or size_y is None:
            return data  # field validation reports the bad fanout
        above *= size * size_y
    return {**data, "levels": levels, **({"compute": compute} if compute is not None else {})}


def _count(value: Any) -> int | None:
    """A positive integer from a raw field (expressions allowed), or None if it is not one."""
    try:
        v = numeric_field(value)
    except ValueError:
        return None
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else None


class Architecture(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    dataflow: str | None = Field(default=None, description="the dataflow family the hardware was built for (a hint for the mapper)")
    technology_nm: Annotated[PosFloat, Field(le=10_000)] = Field(
        default=65, description="process node, nm (at most 10,000: the scaling laws square it)")
    clock_mhz: PosFloat = 200.0
    energy_table: str | None = None
    energy_units: str = "pJ"
    levels: tuple[Storage, ...] = Field(min_length=1)
    compute: Compute = Compute()
    strided_windows: Literal["hull", "positions"] = Field(
        default="hull", description="how a window wider-strided than it is long counts its inputs: hull (every "
        "position between the first and the last read, Timeloop's rectangle) or positions (only those read: a 1x1 "
        "filter at stride 2 reads t of a tile's 2t - 1; a window with its stride or dilation, model.positions)")

    @model_validator(mode="before")
    @classmethod
    def _fanouts_from_instances(cls, data: Any) -> Any:
        return _derive_fanouts(data)

    @model_validator(mode="after")
    def _check(self) -> Architecture:
        names = [lv.name for lv in self.levels]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"level names must be unique, repeated: {plain(sorted(dup))}")
        for role in ROLES:
            if not any(role in lv.keeps for lv in self.levels):
                raise ValueError(f"levels[*].keeps: no level may hold {role}; every tensor needs a home (the outermost level keeps all)")
        missing = [r for r in ROLES if r not in self.levels[0].keeps]
        if missing:
            raise ValueError(f"levels[0] ({self.levels[0].name}).keeps: the outermost level must keep every tensor; missing {missing}")
        for i, lv in enumerate(self.levels[1:], start=1):
            if lv.total_words is None:
                raise ValueError(f"levels[{i}] ({lv.name}).capacity_words: only the outermost level may be unbounded (give capacity_words or partitions)")
        for i, lv in enumerate(self.levels):
            if lv.resident and (i != 1 or self.levels[0].fanout is not None):
                raise ValueError(f"levels[{i}] ({lv.name}).resident: only the level right below an outermost level "
                                 "without a fanout may hold tensors between layers")
            if lv.instances is not None and lv.instances != self.instances(i):
                raise ValueError(f"levels[{i}] ({lv.name}).instances: {lv.instances} does not match the fanouts above ({self.instances(i)})")
        if self.compute.instances is not None and self.compute.instances != self.pes:
            raise ValueError(f"compute.instances: {self.compute.instances} does not match the fanouts above ({self.pes})")
        cs = self.compute.sparse
        if cs is not None and cs.balance_level is not None:
            fanned = [lv.name for lv in self.levels if lv.fanout is not None]
            if cs.balance_level not in fanned:
                raise ValueError(f"compute.sparse.balance_level: {cs.balance_level!r} is no level with a fanout; "
                                 f"levels with a fanout are {plain(fanned) if fanned else 'none'}")
        inner = [(f"levels[{i}] ({lv.name})", lv.mesh_x) for i, lv in enumerate(self.levels)][1:] + [("compute", self.compute.mesh_x)]
        for parent, (where, mesh_x) in zip(self.levels, inner):
            x = parent.fanout.x if parent.fanout is not None else 1
            if mesh_x is not None and mesh_x != x:
                raise ValueError(f"{where}.mesh_x: {mesh_x} differs from the fanout x of {parent.name} ({x})")
        return self

    def instances(self, level: int) -> int:
        """Number of instances of level ``level``: product of the fanouts above it."""
        return prod(lv.fanout.size for lv in self.levels[:level] if lv.fanout is not None)

    @property
    def pes(self) -> int:
        """Number of MAC units: product of all fanouts."""
        return self.instances(len(self.levels))

    def leakage_mw(self) -> dict[str, float]:
        """Static power per component over all its instances (mW): each level stating
        ``leakage_mw`` (per instance), then the MAC units (per unit); empty where none is given."""
        out = {lv.name: lv.leakage_mw * self.instances(i) for i, lv in enumerate(self.levels) if lv.leakage_mw is not None}
        if self.compute.leakage_mw is not None:
            out[self.compute.name] = self.compute.leakage_mw * self.pes
        return out

    @property
    def leakage_pj_per_cycle(self) -> float:
        """Static energy of one clock cycle (pJ): total mW x 1e3 / clock MHz (mW x ns = pJ)."""
        return sum(self.leakage_mw().values()) * 1e3 / self.clock_mhz

    @property
    def resident(self) -> tuple[str, ...]:
        """Tensors held on chip between layers (level 1's ``resident``): the outermost level never moves them."""
        return self.levels[1].resident if len(self.levels) > 1 else ()

    def level_index(self, name: str) -> int:
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        raise KeyError(f"no level named {name!r}; levels are {[lv.name for lv in self.levels]}")

    @property
    def total_area_um2(self) -> float:
        """Storage, networks and MACs over all instances (um^2); needs a resolved architecture."""
        area = 0.0
        for i, lv in enumerate(self.levels):
            n = self.instances(i)
            area += n * (lv.area_um2 or 0.0)
            if lv.fanout is not None:
                area += n * (lv.fanout.area_um2 or 0.0)
        return area + self.pes * (self.compute.area_um2 or 0.0)

    @property
    def total_storage_bits(self) -> int:
        """On-chip storage over all instances (bits); unbounded levels are left out."""
        return sum(self.instances(i) * lv.total_words * lv.word_bits
                   for i, lv in enumerate(self.levels) if lv.total_words is not None)
