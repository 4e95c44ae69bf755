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
