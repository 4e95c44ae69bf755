"""Terminal tables that never drop a digit, at any width.

A number cell never wraps or shortens: when the columns do not fit the console's width, the
table is printed as several tables, each repeating the key columns (the layer name, say), so
that every number stays whole. Free-text columns (explanations, descriptions) may wrap inside
their cells. Callers keep cells short (energies with engineering prefixes: ``loopnest.report.units.eng``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

TEXT_MIN = 24  # a free-text column narrower than this reads badly: it moves to the next table instead


@dataclass(frozen=True)
class Column:
    name: str
    justify: str = "right"
    text: bool = False  # free text: may wrap inside its cell (numbers never do)


def _table(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]], total: Sequence[str] | None) -> Table:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    for i, c in enumerate(columns):
        # a number column is as wide as its widest cell and its header (rich would crop it otherwise)
        widths = [cell_len(c.name), *(cell_len(str(r[i])) for r in [*rows, *([total] if total else [])])]
        whole = min(max(widths), TEXT_MIN) if c.text else max(widths)  # free text: at least TEXT_MIN wide, or whole
        t.add_column(c.name, justify=c.justify, no_wrap=not c.text, overflow="fold", min_width=whole)
    for r in rows:
        t.add_row(*r)
    if total is not None:
        t.add_section()
        t.add_row(*(Text(c, style="bold") for c in total))
    return t


def _min_width(console: Console, table: Table) -> int:
    return console.measure(table, options=console.options.update_width(100_000)).minimum


def print_table(console: Console, title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]],
                total: Sequence[str] | None = None, key: int = 1) -> None:
    """Print the rows under ``title``, split into as many tables as the console's width needs; the
    first ``key`` columns are repeated in each. ``total``: an optional last row, in bold."""
    keys = list(range(key))
    chunks: list[list[int]] = [keys.copy()]

    def pick(idx: list[int], head: str | None = None) -> Table:
        return _table(head, [columns[i] for i in idx], [[r[i] for i in idx] for r in rows],
                      None if total is None else [total[i] for i in idx])

    for i in range(key, len(columns)):
        trial = chunks[-1] + [i]
        if len(chunks[-1]) > key and _min_width(console, pick(trial)) > console.width:
            chunks.append(keys + [i])
        else:
            chunks[-1] = trial
    for n, idx in enumerate(chunks):
        head = title if n == 0 else f"(continued: the columns that did not fit {console.width} characters)"
        console.print(pick(idx, head))
