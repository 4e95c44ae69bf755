"""`loopnest validate`: every published figure we check against, with our error."""

from __future__ import annotations

import typer

from loopnest.cli.common import console, did_you_mean, fail, print_json
from loopnest.cli.tables import Column, print_table


def validate(
    as_json: bool = typer.Option(False, "--json", help="Print {\"cases\": [...]} instead of a table."),
    suite: str = typer.Option(None, "--suite", help="Run one group of cases only."),
) -> None:
    """Check loopnest against every published figure and reference count, with our error.

    Exits non-zero if an exact case fails. Non-exact cases show their error, their tolerance and
    its basis, and say plainly when they are outside it.

    Example: loopnest validate --suite eyeriss-chip
    """
    from loopnest.validation import run_all, suites, summary

    if suite is not None and suite not in suites():
        fail(f"--suite: unknown suite {suite!r}{did_you_mean(suite, list(suites()))}; suites are {', '.join(suites())}")
    cases = run_all(suite)
    if as_json:
        print_json({"cases": [c.to_dict() for c in cases], "summary": summary(cases)})
    else:
        for source in dict.fromkeys(c.source for c in cases):
            rows = [[c.name, c.metric, f"{c.expected:g}", f"{c.got:g}", f"{c.rel_error:.2%}",
                     "exact" if c.exact else f"{c.tolerance:.2%}", c.status]
                    for c in cases if c.source == source]
            print_table(console, f"source: {source}", [
                Column("case", "left", text=True), Column("metric", "left"), Column("expected"), Column("ours"),
                Column("rel. error"), Column("tolerance"), Column("status", "left")], rows)
            for basis in dict.fromkeys(c.basis for c in cases if c.source == source and c.basis):
                console.print(f"tolerance: {basis}")
        console.print(summary(cases))
    if any(c.status == "FAILED" for c in cases):
        raise typer.Exit(1)
