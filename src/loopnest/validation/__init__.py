"""The validation suite behind `loopnest validate`: every published figure we check against.

A case names its source, the metric, the expected figure and ours. Exact cases must match
exactly (the command fails otherwise). A non-exact case carries a tolerance and, in ``basis``,
why its source justifies that tolerance (for a measured figure: the precision it was printed
with); its status says plainly whether it is within or outside that tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    metric: str
    expected: float
    got: float
    exact: bool
    tolerance: float = 0.0  # relative error accepted for a non-exact case to count as passed
    basis: str = ""  # why the source justifies the tolerance (non-exact cases)

    @property
    def rel_error(self) -> float:
        if self.expected == 0:
            return 0.0 if self.got == 0 else float("inf")
        return abs(self.got - self.expected) / abs(self.expected)

    @property
    def passed(self) -> bool:
        return self.got == self.expected if self.exact else self.rel_error <= self.tolerance

    @property
    def status(self) -> str:
        """exact | FAILED (an exact case that does not match) | within tolerance | outside tolerance."""
        if self.exact:
            return "exact" if self.passed else "FAILED"
        return "within tolerance" if self.passed else "outside tolerance"

    def __post_init__(self) -> None:
        if not self.exact and not self.basis:
            raise ValueError(f"case {self.name!r}: a non-exact case needs the basis of its tolerance")

    def to_dict(self) -> dict:
        """The case as JSON data; ``rel_error`` is null where it is infinite (expected 0, got not 0)."""
        err = self.rel_error
        return asdict(self) | {"rel_error": err if math.isfinite(err) else None, "passed": self.passed, "status": self.status}


def summary(cases: list[Case]) -> str:
    """One line: exact passes, within tolerance, outside tolerance, failed exact cases."""
    n = {s: sum(c.status == s for c in cases) for s in ("exact", "within tolerance", "outside tolerance", "FAILED")}
    line = (f"{len(cases)} cases: {n['exact']} exact and matching, {n['within tolerance']} within tolerance, "
            f"{n['outside tolerance']} outside tolerance")
    return line + (f", {n['FAILED']} exact cases FAILED." if n["FAILED"] else "; no exact case failed.")


Suite = Callable[[], Iterable[Case]]


def suites() -> dict[str, Suite]:
    """Every registered group of cases, by name."""
    from loopnest.validation import (diannao, eie, eyeriss_chip, eyeriss_v2, isaac, leakage, pim_presets,
                                     scalesim, scnn, sparse_tensor_core, sparseloop, squeezelerator, synetgy, tetris, timeloop,
                                     tpu_v1)

    return {
        "timeloop-reference": timeloop.cases,
        "eyeriss-chip": eyeriss_chip.cases,
        "tpu-v1": tpu_v1.cases,
        "leakage": leakage.cases,
        "scalesim-systolic": scalesim.cases,
        "isaac-ima": isaac.cases,
        "pim-presets": pim_presets.cases,
        "diannao": diannao.cases,
        "sparseloop": sparseloop.cases,
        "eyeriss-v2": eyeriss_v2.cases,
        "squeezelerator": squeezelerator.cases,
        "eie": eie.cases,
        "tetris": tetris.cases,
        "sparse-tensor-core": sparse_tensor_core.cases,
        "scnn": scnn.cases,
        "synetgy": synetgy.cases,
    }


def run_all(only: str | None = None) -> list[Case]:
    out: list[Case] = []
    for name, suite in suites().items():
        if only is None or only == name:
            out.extend(suite())
    return out
