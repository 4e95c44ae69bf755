"""Run the CLI in a fresh process (a terminal width of our choosing, modules hidden if asked)."""

from __future__ import annotations

import os
import subprocess
import sys

_HIDE = "import sys\nfor m in {hide!r}: sys.modules[m] = None\n"
_BOOM = ("import importlib\n"
         "def _searched(*a, **k): raise SystemExit('SEARCH STARTED')\n"
         "for mod, name in {forbid!r}: setattr(importlib.import_module(mod), name, _searched)\n")


def run_cli(*args: str, columns: int | None = None, hide: tuple[str, ...] = (), forbid: tuple[tuple[str, str], ...] = ()):
    """``loopnest ARGS`` in a subprocess; ``hide``: modules made unimportable (None in sys.modules);
    ``forbid``: (module, function) pairs that end the run if called (e.g. the mapper)."""
    code = _HIDE.format(hide=list(hide)) + _BOOM.format(forbid=list(forbid)) + (
        "from loopnest.cli import main\nsys.argv = ['loopnest', *sys.argv[1:]]\nmain()\n")
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
