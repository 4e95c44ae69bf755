"""Shared CLI helpers: one clear error line and a non-zero exit, never a traceback."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(width=max(Console().width, 120))  # tables of counts need the room
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print one error line to stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


MODE_HELP = ("Mapper mode: exact (proven best in the mapspace: branch and bound with sound floors) or "
             "heuristic (seeded sample of the best-bounded choices, no optimality claim).")


def mode_option(default: str = "exact") -> typer.models.OptionInfo:
    """The --mode option every mapping command shares."""
    return typer.Option(default, "--mode", help=MODE_HELP)
