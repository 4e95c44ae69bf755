"""Terminal tables never lose a number: at 80 and 120 columns every cell is printed whole (issue 11, item 3)."""

import io
import json

import pytest
from rich.console import Console

from cli_helpers import run_cli
from loopnest.cli.tables import Column, print_table
from loopnest.report.units import eng


def _printed(width: int, columns, rows, **kw) -> str:
    out = Console(width=width, file=io.StringIO(), markup=False, highlight=False)
    print_table(out, "a title long enough to wrap " * 5, columns, rows, **kw)
    return out.file.getvalue()


def _whole(text: str, width: int, cells) -> None:
    lines = text.splitlines()
    assert max(len(l) for l in lines) <= width, max(lines, key=len)
    assert "…" not in text
    for c in cells:
        assert any(f" {c} " in f" {l} " for l in lines), c  # whole, on one line, not cut or wrapped


@pytest.mark.parametrize("width", [80, 120])
def test_a_table_wider_than_the_terminal_is_split_and_keeps_every_digit(width):
    cols = [Column("layer", "left")] + [Column(f"GlobalBuffer.network energy {i}") for i in range(9)]
    rows = [[f"layer{r}.0.downsample.0"] + [f"{123456789.123 * (r + 1) * (i + 1):,.3f}" for i in range(9)] for r in range(4)]
    text = _printed(width, cols, rows, total=["TOTAL"] + ["9,999,999,999.999"] * 9)
    _whole(text, width, [c for r in rows for c in r] + ["9,999,999,999.999"])
    assert text.count("layer3.0.downsample.0") >= 2  # the key column is repeated in each part


def test_cells_and_titles_are_printed_as_written_not_as_markup():
    text = _printed(120, [Column("layer", "left"), Column("hint", "left", text=True)],
                    [["conv[0]", "pip install 'loopnest[plot]'"], ["[bold]x[/]", "[red]"]])
    for s in ("conv[0]", "pip install 'loopnest[plot]'", "[bold]x[/]", "[red]"):
        assert s in text


def test_engineering_prefixes_by_hand():
    assert eng(1.88e6, "pJ") == "1.88 µJ"  # 1.88e6 pJ = 1.88e-6 J
    assert eng(518, "pJ") == "518 pJ"
    assert eng(2.6424e9, "pJ") == "2.64 mJ"
    assert eng(999.9e3, "pJ") == "1 µJ"  # rounds up into the next prefix, not "1e+03 nJ"
    assert eng(0, "pJ") == "0 J"
    assert eng(4.2e7, "norm") == "42 M norm"  # normalized units keep their name


@pytest.mark.parametrize("columns", [80, 120])
def test_evaluate_wide_at_80_and_120_columns_prints_every_number(columns):
    # before: the console was forced to >= 120 columns and cells read "1.67e+…", "GlobalB…"
    data = json.loads(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json").stdout)
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--wide", columns=columns)
    assert r.returncode == 0, r.stderr
    unit = data["energy_units"]
    cells = []
    for row in data["layers"] + [data["totals"]]:
        cells += [f"{row['macs']:,}", f"{row['cycles']:,.0f}", f"{row['utilization']:.1%}", eng(row["energy_pj"], unit),
                  f"{row['energy_per_mac_pj']:.3f}", f"{row['dram_accesses_per_mac']:.4f}"]
        cells += [eng(v, unit) for v in row["energy_by_level_pj"].values()]
    cells += [r["name"] for r in data["layers"]] + [r["search"]["mode"] for r in data["layers"]]
    _whole(r.stdout, columns, cells)
    for level in data["totals"]["energy_by_level_pj"]:
        assert f" {level} " in r.stdout  # level headers whole too (before: "GlobalB…")
