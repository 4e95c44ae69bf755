"""Timeloop reference counts from its public tutorial exercises (8-bit words, one MAC level below
the innermost buffer), as quoted in loopnest issue 4. Every count is an exact case."""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.arch.spec import Architecture, Compute, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.validation import Case
from loopnest.workload.problem import Problem, Tensor

SOURCE = "Timeloop tutorial exercises (timeloop-accelergy-exercises), reference stats"
_UNIT = {"read": 1.0, "write": 1.0, "update": 1.0}


def conv1d(K: int = 1, R: int = 3, P: int = 16, stride: int = 1, dilation: int = 1, bits: int = 8) -> Problem:
    """Timeloop's tutorial Conv1D: Outputs[k, p] += Weights[k, r] * Inputs[stride*p + dilation*r]."""
    k = ({"K": 1},) if K > 1 else ()
    dims = ({"K": K} if K > 1 else {}) | {"R": R, "P": P}
    return Problem(f"conv1d-K{K}", "conv", dims, (
        Tensor("Weights", "weights", k + ({"R": 1},), bits, static=True),
        Tensor("Inputs", "inputs", ({"P": stride, "R": dilation},), bits),
        Tensor("Outputs", "outputs", k + ({"P": 1},), bits)))


def two_or_three_levels(*names: str) -> Architecture:
    levels = [Storage(name=n, word_bits=8, energy_pj=_UNIT, **({"class": "dram"} if i == 0 else {"capacity_words": 1 << 16}))
              for i, n in enumerate(names)]
    return Architecture(name="timeloop-tutorial", levels=tuple(levels), compute=Compute(operand_bits=8, energy_pj=1.0))


def _m(*levels: tuple[dict, tuple[str, ...], tuple[str, ...] | None]) -> Mapping:
    return Mapping(tuple(LevelMapping(t, order, keep=None if keep is None else frozenset(keep)) for t, order, keep in levels))


# (case, K, levels, mapping, {(level, tensor, action): expected words}, expected cycles)
_EX1 = {("Buffer", "weights", "reads"): 48, ("Buffer", "weights", "fills"): 3, ("Buffer", "inputs", "reads"): 48,
        ("Buffer", "inputs", "fills"): 18, ("Buffer", "outputs", "reads"): 32, ("Buffer", "outputs", "updates"): 48,
        ("MainMemory", "weights", "reads"): 3, ("MainMemory", "inputs", "reads"): 18,
        ("MainMemory", "outputs", "updates"): 16}
_EX2 = {("Buffer", "weights", "reads"): 1536, ("Buffer", "weights", "fills"): 96, ("Buffer", "inputs", "reads"): 1536,
        ("Buffer", "inputs", "fills"): 576, ("Buffer", "outputs", "reads"): 1024, ("Buffer", "outputs", "updates"): 1536,
        ("MainMemory", "weights", "reads"): 96, ("MainMemory", "inputs", "reads"): 576,
        ("MainMemory", "outputs", "updates"): 512}
_EX2_TILED = _EX2 | {("Buffer", "inputs", "fills"): 288, ("MainMemory", "inputs", "reads"): 288}
_EX3 = {("DRAM", "weights", "reads"): 96, ("DRAM", "inputs", "reads"): 18, ("DRAM", "outputs", "updates"): 512,
        ("GLB", "weights", "reads"): 96, ("GLB", "weights", "fills"): 96, ("GLB", "inputs", "reads"): 288,
        ("GLB", "inputs", "fills"): 18, ("GLB", "outputs", "updates"): 512,
        ("RF", "weights", "reads"): 1536, ("RF", "weights", "fills"): 96, ("RF", "inputs", "reads"): 1536,
        ("RF", "inputs", "fills"): 288, ("RF", "outputs", "reads"): 1024, ("RF", "outputs", "updates"): 1536}
_GLB = ({"K": 16, "P": 16}, ("K", "P"))
_REFERENCE = [
    ("ex1 conv1d weight-stationary", 1, ("MainMemory", "Buffer"),
     _m(({"R": 3}, (), None), ({"P": 16}, (), None)), _EX1, 48),
    ("ex1 conv1d output-stationary", 1, ("MainMemory", "Buffer"),
     _m(({"P": 16}, (), None), ({"R": 3}, (), None)), _EX1, 48),
    ("ex2 conv1d+K untiled", 32, ("MainMemory", "Buffer"),
     _m(({"K": 32, "P": 16}, ("K", "P"), None), ({"R": 3}, (), None)), _EX2, 1536),
    ("ex2 conv1d+K tiled", 32, ("MainMemory", "Buffer"),
     _m(({"K": 16, "P": 16}, ("K", "P"), None), ({"K": 2, "R": 3}, (), None)), _EX2_TILED, 1536),
    ("ex3 three levels", 32, ("DRAM", "GLB", "RF"),
     _m(({}, (), None), (*_GLB, None), ({"K": 2, "R": 3}, (), None)), _EX3, 1536),
    ("ex3 three levels with bypass", 32, ("DRAM", "GLB", "RF"),
     _m(({}, (), None), (*_GLB, ("weights", "inputs")), ({"K": 2, "R": 3}, (), ("outputs",))),
     {("GLB", "weights", "reads"): 1536, ("GLB", "inputs", "reads"): 1536}, None),
]


def cases() -> Iterator[Case]:
    for name, K, levels, mapping, expected, cycles in _REFERENCE:
        result = evaluate(conv1d(K), two_or_three_levels(*levels), mapping)
        for (level, tensor, action), value in expected.items():
            yield Case(f"{name}: {level} {tensor} {action}", SOURCE, "words", value,
                       result.count(level, tensor, action), exact=True)
        if cycles is not None:
            yield Case(f"{name}: cycles", SOURCE, "cycles", cycles, result.cycles, exact=True)
