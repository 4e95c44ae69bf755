"""`loopnest arch ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="arch commands", no_args_is_help=True)
