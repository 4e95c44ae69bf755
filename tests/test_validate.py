"""`loopnest validate`: the JSON interface and the exit status."""

import json

from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.validation import Case


def test_validate_json_lists_every_case_with_its_error():
    out = CliRunner().invoke(app, ["validate", "--json"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert len(cases) >= 50
    keys = {"name", "source", "metric", "expected", "got", "rel_error", "exact", "passed"}
    assert all(keys <= c.keys() for c in cases)
    assert all(c["passed"] for c in cases if c["exact"])


def test_unknown_suite_is_a_clear_error():
    out = CliRunner().invoke(app, ["validate", "--suite", "nope"])
    assert out.exit_code != 0 and "timeloop-reference" in out.output


def test_case_arithmetic():
    # 110 against 100: 10% off; inside a 15% tolerance, outside a 5% one; an exact case must match.
    assert Case("a", "s", "m", 100, 110, exact=False, tolerance=0.15).passed
    assert not Case("a", "s", "m", 100, 110, exact=False, tolerance=0.05).passed
    assert abs(Case("a", "s", "m", 100, 110, exact=False).rel_error - 0.10) < 1e-12
    assert not Case("a", "s", "m", 100, 101, exact=True).passed
