"""Shared CLI helpers: one clear error line and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable

import typer
from rich.console import Console

console = Console(width=max(Console().width, 120))  # tables of counts need the room
err_console = Console(stderr=True)


MAX_MESSAGE = 1000  # characters of an error line: a guard, the messages themselves quote short excerpts


def fail(message: str, code: int = 2) -> None:
    """Print one error line to stderr (newlines collapsed, at most MAX_MESSAGE characters) and exit non-zero."""
    from rich.markup import escape

    text = " ".join(message.split())
    text = text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


MODE_HELP = ("Mapper mode: exact (proven best in the mapspace: branch and bound with sound floors), "
             "heuristic (seeded sample of the best-bounded choices, no optimality claim) or auto (exact where "
             "the loops below the second level have at most 1e6 choices, where it is quick; heuristic "
             "elsewhere; the output says which ran per layer).")


def _check_mode(mode: str) -> str:
    from loopnest.search.mapper import MODES

    if mode not in MODES:
        fail(f"--mode: {mode!r} is not one of {', '.join(MODES)}")
    return mode


def mode_option(default: str = "auto") -> typer.models.OptionInfo:
    """The --mode option every mapping command shares (checked: one error line naming the valid modes)."""
    return typer.Option(default, "--mode", help=MODE_HELP, callback=_check_mode)


def stoppable(command: Callable) -> Callable:
    """``command`` with Ctrl-C (SIGINT) and SIGTERM ending it in one line and exit 128 + the signal
    (130, 143) instead of click's "Aborted!"; commands that keep partial results catch it first."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        import signal

        from loopnest.signals import signum_of

        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as stop:
            signum = signum_of(stop)
            fail(f"interrupted by {signal.Signals(signum).name}", 128 + signum)

    return run
