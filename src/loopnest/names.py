"""Names the user typed: a "did you mean" suggestion for a misspelled model, preset, layer or dataflow."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` (case-insensitive), or ``""`` when none is close."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word).lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {next(c for c in choices if c.lower() == close[0])!r}?)"


def plain(items: Iterable[object]) -> str:
    """``a, b, c``: a list as a user reads it in a message (not Python's ``['a', 'b', 'c']``)."""
    return ", ".join(str(x) for x in items)
