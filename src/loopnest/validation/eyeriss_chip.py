"""The Eyeriss chip's measured AlexNet figures (seed 000) against our model and mapper: non-exact
cases. We do not expect a match (the chip compresses DRAM traffic, folds partial rows, gates
zeros); a case passes within a factor of two (tolerance 100 %), and the error is always shown."""

from __future__ import annotations

from typing import Iterator

from loopnest.search.eyeriss_cases import cases as eyeriss_figures
from loopnest.validation import Case

TOLERANCE = 1.0


def cases() -> Iterator[Case]:
    for c in eyeriss_figures():
        yield Case(c["name"], c["source"], c["metric"], c["expected"], c["got"], exact=False, tolerance=TOLERANCE)
