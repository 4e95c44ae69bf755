"""Shared CLI helpers: one clear error line and a non-zero exit, never a traceback; strict JSON."""

from __future__ import annotations

import json

import typer
from rich.console import Console

console = Console(width=max(Console().width, 120))  # tables of counts need the room
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print one error line to stderr and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: object, indent: int = 1) -> None:
    """Print ``data`` as strict JSON (RFC 8259), the one way every ``--json`` output is written:
    no ``NaN``/``Infinity`` (``allow_nan=False``) and no value coerced by ``default=``, so a
    result holding one is an error line instead of output a strict parser rejects."""
    try:
        text = json.dumps(data, indent=indent, allow_nan=False)
    except (TypeError, ValueError) as e:
        fail(f"internal error: the result cannot be written as JSON ({e}); please report it")
    print(text)


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


PRECISION_HELP = ("Bit widths for every layer, e.g. weights=4,inputs=8,outputs=16 (also mac=16: the MAC's operand width, "
                  "accumulator=32: partial sums), or a per-layer precision YAML file; default: the workload's own (16-bit). "
                  "See docs/model.md, Precision.")


def precision_option() -> typer.models.OptionInfo:
    """The --precision option of every command that maps or models."""
    return typer.Option(None, "--precision", help=PRECISION_HELP)


def with_precision(work, spec: str | None):
    """A Network or one layer (Problem) at ``--precision``'s widths; one error line on bad input."""
    if spec is None:
        return work
    from loopnest.datafile import DataFileError
    from loopnest.workload.precision import PrecisionError, apply_precision, apply_to_layer, load_precision

    try:
        default, per_layer = load_precision(spec)
        if hasattr(work, "nodes"):
            return apply_precision(work, default, per_layer)
        return apply_to_layer(work, default, per_layer)
    except (PrecisionError, DataFileError) as e:
        fail(f"--precision: {e}")
