"""`loopnest validate`: every published figure we check against, with our error."""

from __future__ import annotations

import typer

from loopnest.cli.common import console, fail, print_json


def validate(
    as_json: bool = typer.Option(False, "--json", help="Print {\"cases\": [...]} instead of a table."),
    suite: str = typer.Option(None, "--suite", help="Run one group of cases only."),
) -> None:
    """Run the validation suite: exit non-zero if an exact case fails."""
    from loopnest.validation import run_all, suites

    if suite is not None and suite not in suites():
        fail(f"unknown suite {suite!r}; suites are {', '.join(suites())}")
    cases = run_all(suite)
    if as_json:
        print_json({"cases": [c.to_dict() for c in cases]})
    else:
        from rich.table import Table

        for source in dict.fromkeys(c.source for c in cases):
            table = Table(title=f"source: {source}", title_justify="left")
            for col in ("case", "metric", "expected", "ours", "rel. error", "kind", ""):
                table.add_column(col, overflow="fold")
            for c in (c for c in cases if c.source == source):
                mark = "[green]ok[/]" if c.passed else ("[red]FAIL[/]" if c.exact else "[yellow]off[/]")
                table.add_row(c.name, c.metric, f"{c.expected:g}", f"{c.got:g}", f"{c.rel_error:.1%}",
                              "exact" if c.exact else f"within {c.tolerance:.0%}", mark)
            console.print(table)
        passed = sum(c.passed for c in cases)
        console.print(f"{passed} of {len(cases)} cases passed ({sum(c.exact for c in cases)} exact cases).")
    failed = [c.name for c in cases if c.exact and not c.passed]
    if failed:
        raise typer.Exit(1)
