"""Translate a mapping found by ZigZag (zigzag_runner.py JSON) into a loopnest Mapping.

Used by benchmarks/peer_zigzag.py to cost ZigZag's best mapping with loopnest's model: the gap
between that figure and ZigZag's own energy is the cost-model difference on one and the same
mapping, apart from any search difference.

ZigZag writes one loop order (inner -> outer) and, per operand, how many of those loops each of
its memories holds. The benchmark's loopnest cores name their levels after ZigZag's memories, so
a level's tile boundary is the cumulative loop count of that memory (the same for every operand
the memory holds).

ZigZag keeps one memory hierarchy per operand; loopnest one chain of levels. Levels with the same
number of instances (between two fanouts) that share no tensor may sit in either order in the
chain: the hardware is the same. ``chain_for`` reorders them (and moves the fanout to the new
innermost level of its group) so the chain follows ZigZag's boundaries; ``chains`` lists every
such order, the chains a mapper must search to cover ZigZag's mapspace.

Not every ZigZag mapping has a loopnest form; ``to_loopnest`` then returns the reason instead of
a mapping: fractional (uneven) factors, a shared memory whose operands stop at different loops,
boundaries no chain order can follow, or two loops of one dimension in one level with another
dimension between them.
"""

from __future__ import annotations

from itertools import permutations, product

from loopnest.arch.spec import Architecture, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping

# ZigZag loop dimension -> loopnest dimension
DIMS = {"B": "N", "K": "M", "G": "G", "OX": "Q", "OY": "P", "C": "C", "FX": "S", "FY": "R"}


def _integral(f: float) -> int | None:
    return int(f) if float(f).is_integer() else None


def _cuts(zz: dict) -> tuple[list[tuple[str, int]], dict[str, int]] | str:
    """The loop list (inner -> outer, loopnest names) and each memory's boundary in it."""
    loops: list[tuple[str, int]] | None = None
    cuts: dict[str, int] = {}
    for levels in zz["levels"].values():
        flat, n = [], 0
        for lv in levels:
            for dim, size in lv["temporal_inner_to_outer"]:
                f = _integral(size)
                if f is None:
                    return f"fractional loop {dim} {size}"
                flat.append((DIMS[dim], f))
            n += len(lv["temporal_inner_to_outer"])
            if cuts.setdefault(lv["memory"], n) != n:
                return f"memory {lv['memory']} holds its operands to different loops"
        if loops is None:
            loops = flat
        elif flat != loops:
            return "operands disagree on the loop order"
    return [(d, f) for d, f in loops if f > 1], _cut_without_ones(loops or [], cuts)


def _cut_without_ones(loops: list[tuple[str, int]], cuts: dict[str, int]) -> dict[str, int]:
    """Boundaries re-counted once loops of bound 1 are dropped."""
    kept = [0]
    for _, f in loops:
        kept.append(kept[-1] + (f > 1))
    return {m: kept[c] for m, c in cuts.items()}


def _groups(arch: Architecture) -> list[list[Storage]]:
    """Runs of levels with the same instance count, outer -> inner (a fanout closes a run)."""
    groups: list[list[Storage]] = [[]]
    for lv in arch.levels:
        groups[-1].append(lv)
        if lv.fanout is not None:
            groups.append([])
    return [g for g in groups if g]


def _rebuild(arch: Architecture, groups: list[list[Storage]]) -> Architecture | None:
    """The chain with each group in the given order, its fanout on the group's innermost level;
    None if two levels sharing a tensor changed order."""
    levels: list[Storage] = []
    for old, new in zip(_groups(arch), groups):
        fan = next((lv.fanout for lv in old if lv.fanout is not None), None)
        for i, lv in enumerate(new):
            levels.append(lv.model_copy(update={"fanout": fan if i == len(new) - 1 else None}))
    for role in ("inputs", "weights", "outputs"):
        if [lv.name for lv in levels if role in lv.keeps] != [lv.name for lv in arch.levels if role in lv.keeps]:
            return None
    return arch.model_copy(update={"levels": tuple(levels)})


def chains(arch: Architecture) -> list[Architecture]:
    """Every chain order of ``arch`` that is the same hardware (see the module docstring)."""
    out = []
    for combo in product(*(permutations(g) for g in _groups(arch))):
        chain = _rebuild(arch, [list(g) for g in combo])
        if chain is not None:
            out.append(chain)
    return out


def chain_for(zz: dict, arch: Architecture) -> Architecture | str:
    """The chain order of ``arch`` that follows the boundaries of ZigZag's mapping, or why none does."""
    got = _cuts(zz)
    if isinstance(got, str):
        return got
    _, cuts = got
    groups = [sorted(g, key=lambda lv: -cuts.get(lv.name, 1 << 30)) for g in _groups(arch)]
    return _rebuild(arch, groups) or "ZigZag's boundaries cross a memory shared by two tensors"


def to_loopnest(zz: dict, arch: Architecture) -> Mapping | str:
    """ZigZag's mapping of one layer on ``arch`` (levels named after ZigZag's memories), or why not.
    ``arch`` must already follow the mapping's boundaries (``chain_for``)."""
    got = _cuts(zz)
    if isinstance(got, str):
        return got
    loops, cuts = got
    spatial = {DIMS[d]: _integral(f) for d, f in zz["spatial"].items() if f != 1}
    if any(f is None for f in spatial.values()):
        return f"fractional spatial unrolling {zz['spatial']}"
    levels: list[LevelMapping] = []
    inner = 0
    for i in reversed(range(len(arch.levels))):  # inner -> outer
        lv = arch.levels[i]
        cut = len(loops) if i == 0 else cuts.get(lv.name)
        if cut is None:
            return f"level {lv.name} is not a ZigZag memory of this layer"
        if cut < inner:
            return f"level {lv.name} ends inside the level below it (ZigZag nests them the other way)"
        own = loops[inner:cut][::-1]  # outer -> inner
        temporal: dict[str, int] = {}
        order: list[str] = []
        for d, f in own:
            if d in temporal:
                if order[-1] != d:
                    return f"level {lv.name} has two {d} loops apart"
                temporal[d] *= f
            else:
                temporal[d], order = f, order + [d]
        sx = sy = {}
        if lv.fanout is not None:
            sx = {d: f for d, f in spatial.items() if d == "M"}
            sy = {d: f for d, f in spatial.items() if d != "M"}
        levels.append(LevelMapping(temporal, tuple(order), sx, sy, frozenset(lv.keeps)))
        inner = cut
    return Mapping(tuple(reversed(levels)))
