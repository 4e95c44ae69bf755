"""Sparse features of an architecture spec (docs/sparsity.md): formats per tensor and rank, metadata,
gating and skipping of storage accesses and MACs, and how skipped work shares out over the PEs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from loopnest.arch.fields import Action, NonNegFloat, PosInt, Strict as _Strict
from loopnest.workload.problem import Role

Format = Literal["uncompressed", "bitmask", "rle", "cp", "uop"]
FORMATS = ("uncompressed", "bitmask", "rle", "cp", "uop")
COMPRESSED = ("bitmask", "rle", "cp")  # formats that store the nonzeros only


class SparseAction(_Strict):
    """Gate or skip the accesses of ``target`` where a ``condition_on`` (leader) tensor is zero."""

    target: Role
    condition_on: tuple[Role, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SparseAction:
        if self.target in self.condition_on:
            raise ValueError(f"condition_on: {self.target} cannot be its own leader; name the other tensors")
        return self


class StorageSparse(_Strict):
    """Sparse features of a storage level (docs/model.md, "Sparsity"): a representation format per
    kept tensor, the metadata word width and energies, and gating / skipping of accesses."""

    formats: dict[Role, Format | tuple[Format, ...]] = Field(default_factory=dict, description=(
        "per tensor a format, or its ranks outer -> inner ([uop, rle]): the inner rank spans the tile the "
        "level sends to its consumer, the outer rank the consumer tiles its own tile holds"))
    metadata_bits: PosInt = Field(default=4, description="bits of one metadata word (a coordinate, a run length, bitmask bits)")
    metadata_energy_pj: dict[Action, NonNegFloat] | None = Field(
        default=None, description="pJ per metadata word access; default: the data energy times metadata_bits / word_bits")
    gating: tuple[SparseAction, ...] = ()
    skipping: tuple[SparseAction, ...] = ()
    decompression_energy_pj: NonNegFloat = Field(default=0.0, description=(
        "pJ per value this level decompresses: each value it is filled with from a parent that keeps the "
        "tensor compressed (bitmask, rle, cp) while this level keeps it uncompressed"))
    compression_energy_pj: NonNegFloat = Field(default=0.0, description=(
        "pJ per stored entry this level compresses: each entry of its updates written back to such a parent"))
    gated_keep_slot: bool = Field(default=False, description=(
        "gated accesses still take their port slot: they count against read_bandwidth / write_bandwidth as "
        "Sparseloop counts them; default false: only the actual accesses do"))
    occupancy: Literal["expected", "worst", "quantile"] = Field(
        default="expected", description="nonzeros a compressed tile reserves in capacity checks: expected (t x d), "
        "worst (every value of the tile may be nonzero for uniform densities) or quantile (occupancy_quantile of the "
        "tile's occupancy distribution)")
    occupancy_quantile: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.99, description="with occupancy: quantile, the probability that a tile fits")

    @field_validator("formats", mode="before")
    @classmethod
    def _ranks(cls, v: Any) -> Any:
        """A list of one format is that format; more than two ranks, or a compressed outer rank over an
        uncompressed inner one, is one error line (not modeled: docs/sparsity.md)."""
        if not isinstance(v, dict):
            return v
        out = {}
        for role, f in v.items():
            bad = [x for x in (f if isinstance(f, (list, tuple)) else [f]) if x not in FORMATS]
            if bad:
                raise ValueError(f"{role}: {bad[0]!r} is not a format; allowed: {', '.join(FORMATS)}, or two of them "
                                 "as ranks outer -> inner, e.g. [uop, rle]")
            if isinstance(f, (list, tuple)):
                if not 1 <= len(f) <= 2:
                    raise ValueError(f"{role}: {len(f)} ranks; give one format or two ranks outer -> inner, e.g. [uop, rle]")
                if len(f) == 2 and f[0] in COMPRESSED and f[1] == "uncompressed":
                    raise ValueError(f"{role}: a compressed outer rank ({f[0]}) over an uncompressed inner rank is not "
                                     "modeled; compress the inner rank or make the outer one uop")
                f = f[0] if len(f) == 1 else tuple(f)
            out[role] = f
        return out

    def ranks_of(self, role: Role) -> tuple[str, ...]:
        """The tensor's ranks outer -> inner (one rank for a plain format; uncompressed if not named)."""
        f = self.formats.get(role, "uncompressed")
        return f if isinstance(f, tuple) else (f,)

    def format_of(self, role: Role) -> str:
        """The inner rank's format: it sets which values are stored and moved."""
        return self.ranks_of(role)[-1]


class ComputeSparse(_Strict):
    """MACs gated (cycle spent, no energy) or skipped (neither) where any of these operands is zero;
    ``load_balance`` says how the skipped work shares out over the PEs (docs/sparsity.md)."""

    gating: tuple[Role, ...] = ()
    skipping: tuple[Role, ...] = ()
    load_balance: Literal["ideal", "expected_max"] = Field(
        default="ideal", description="ideal: skipped work spreads evenly over PEs; expected_max: the instances "
        "below balance_level's fanout wait for the slowest every iteration of the temporal loops at or above it")
    balance_level: str | None = Field(
        default=None, description="with expected_max: the level whose fanout's instances synchronize "
        "(default: the outermost level with a fanout)")
