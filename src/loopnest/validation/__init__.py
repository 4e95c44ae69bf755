"""The validation suite behind `loopnest validate`: every published figure we check against.

A case names its source, the metric, the expected figure and ours. Exact cases must match
exactly (the command fails otherwise); the others report their relative error.
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

    @property
    def rel_error(self) -> float:
        if self.expected == 0:
            return 0.0 if self.got == 0 else float("inf")
        return abs(self.got - self.expected) / abs(self.expected)

    @property
    def passed(self) -> bool:
        return self.got == self.expected if self.exact else self.rel_error <= self.tolerance

    def to_dict(self) -> dict:
        """The case as JSON data; ``rel_error`` is null where it is infinite (expected 0, got not 0)."""
        err = self.rel_error
        return asdict(self) | {"rel_error": err if math.isfinite(err) else None, "passed": self.passed}


Suite = Callable[[], Iterable[Case]]


def suites() -> dict[str, Suite]:
    """Every registered group of cases, by name."""
    from loopnest.validation import eyeriss_chip, timeloop

    return {"timeloop-reference": timeloop.cases, "eyeriss-chip": eyeriss_chip.cases}


def run_all(only: str | None = None) -> list[Case]:
    out: list[Case] = []
    for name, suite in suites().items():
        if only is None or only == name:
            out.extend(suite())
    return out
