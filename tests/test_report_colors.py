"""One colour per level and per data type on every chart of a page, and energy axes in one
engineering unit (issue 11, item 12, in part)."""

import json

import pytest

from cli_helpers import run_cli
from loopnest.report.figures import TYPE_COLORS, evaluate_sections, roofline_charts
from loopnest.report.plots import plotly_figure
from loopnest.report.units import energy_scale


def _colours(figures) -> dict[str, set[str]]:
    """Trace name -> every colour it is drawn with across the page's figures; pie slices by label."""
    seen: dict[str, set[str]] = {}
    for fig in figures:
        for t in fig["data"]:
            if t["type"] == "pie":
                for label, c in zip(t["labels"], t.get("marker", {}).get("colors", [None] * len(t["labels"]))):
                    seen.setdefault(label, set()).add(c)
            else:
                name = t["name"].split(" roof")[0].split("layers @ ")[-1].split(":")[0].split(" (")[0]
                seen.setdefault(name, set()).add((t.get("marker") or t.get("line") or {}).get("color"))
    return seen


@pytest.fixture(scope="module")
def lenet():
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json")
    return json.loads(r.stdout)


def test_evaluate_page_keeps_one_colour_per_level_and_data_type(lenet):
    figures = [plotly_figure(c) for s in evaluate_sections(lenet) for c in s.charts]
    seen = _colours(figures)
    for t, c in TYPE_COLORS.items():
        assert seen[t] == {c}, t  # bars and pie slices alike
    for level in lenet["totals"]["energy_by_level_pj"]:
        assert len(seen[level]) == 1 and None not in seen[level], level
    level_colours = {next(iter(seen[l])) for l in lenet["totals"]["energy_by_level_pj"]}
    assert len(level_colours) == len(lenet["totals"]["energy_by_level_pj"])  # distinct levels, distinct colours
    assert not level_colours & set(TYPE_COLORS.values())


def test_roofline_page_gives_a_level_the_same_colour_in_the_roofline_and_the_breakdown():
    r = run_cli("roofline", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json")
    data = json.loads(r.stdout)
    seen = _colours([plotly_figure(c) for c in roofline_charts(data)])
    for roof in data["roofline"]["roofs"]:  # a port's roof ("DRAM read") in its level's colour
        colours = seen[roof["level"]] | seen[roof["name"]]
        assert len(colours - {None}) == 1, (roof["name"], colours)


def test_energy_axes_use_one_engineering_unit(lenet):
    # LeNet-5 on eyeriss: the largest layer (fc1) costs 15.7 µJ = 1.57e7 pJ: the axis is in µJ
    charts = {c.id: c for s in evaluate_sections(lenet) for c in s.charts}
    by_level = charts["breakdown-by-level"]
    assert by_level.y_label == "energy (µJ)"
    peak = max(sum(s.y[i] for s in by_level.series) for i in range(len(by_level.categories)))
    assert 1 <= peak < 1000
    assert energy_scale(1.5e9, "pJ") == (1e9, "mJ")  # 1.5e9 pJ = 1.5 mJ, not "1.5B pJ"
    assert energy_scale(4.2e7, "norm") == (1e6, "M norm")
    assert energy_scale(518, "pJ") == (1.0, "pJ")
