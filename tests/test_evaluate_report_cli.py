"""`loopnest evaluate --report`: one self-contained HTML file next to the JSON export."""

import json

from typer.testing import CliRunner

from loopnest.cli import app


def test_evaluate_writes_a_self_contained_report(tmp_path):
    out_html = tmp_path / "lenet.html"
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json", "--report", str(out_html)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output[r.output.index("{"):])
    page = out_html.read_text()
    # (no network requests on opening it: checked in a real browser by tests/test_report_browser.py)
    assert data["model"] in page and f"{data['totals']['macs']}" in page.replace(",", "")


def test_the_search_mode_of_every_layer_is_in_the_table_the_json_and_the_report(tmp_path):
    # README: auto mode "says so per layer"; before, only the totals line said it
    import re

    from cli_helpers import run_cli

    page = tmp_path / "r.html"
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--mode", "heuristic", "--report", str(page),
                columns=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--mode", "heuristic", "--json").stdout)
    assert [x["search"]["mode"] for x in data["layers"]] == ["heuristic"] * 5
    table_rows = [l for l in r.stdout.splitlines() if re.match(r" (conv|fc)\d ", l)]
    assert len(table_rows) == 5 and all("heuristic" in l for l in table_rows)
    html = page.read_text()
    per_layer = html[html.index("<caption>Per layer"):]
    per_layer = per_layer[:per_layer.index("</table>")]
    assert ">search</th>" in per_layer and per_layer.count("<td>heuristic</td>") == 5  # a sortable header


def test_the_googlenet_energy_split_is_quoted_for_googlenet_only():
    # issue 11, item 9: the evaluate report of ResNet-50 quoted GoogLeNet's published split as if
    # it were a reference for ResNet-50
    from loopnest.report.figures import published_pie

    assert published_pie("resnet50") == "" and published_pie("lenet5") == ""
    assert "outputs 43%" in published_pie("googlenet") and "Yang et al., CVPR 2017" in published_pie("GoogLeNet")
