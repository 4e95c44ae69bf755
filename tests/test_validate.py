"""`loopnest validate`: the JSON interface and the exit status."""

import json

from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.validation import Case


def test_validate_json_lists_every_case_with_its_error():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "timeloop-reference"])
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


def test_infinite_relative_error_is_null_in_json():
    # expected 0, got 1: the relative error |1 - 0| / 0 is infinite, which strict JSON cannot hold
    case = Case("a", "s", "m", 0, 1, exact=False)
    assert case.rel_error == float("inf") and not case.passed
    assert case.to_dict()["rel_error"] is None
    assert Case("a", "s", "m", 0, 0, exact=True).to_dict()["rel_error"] == 0.0


def test_eyeriss_chip_cases_are_shown_with_their_error():
    # seed 000: AlexNet CONV1-5 on the Eyeriss chip, batch 4: 2.66 GMACs, 208.5 MB buffer, 15.4 MB DRAM,
    # 115.3 ms. Our MAC count must match the seed's to its printed precision; the rest carry an error.
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "eyeriss-chip"])
    assert out.exit_code == 0, out.output
    cases = {c["metric"] + ":" + c["name"].split(": ")[-1]: c for c in json.loads(out.output)["cases"]}
    macs = cases["MACs:macs"]
    assert macs["expected"] == 2.66e9 and abs(macs["got"] - 2.66e9) / 2.66e9 < 0.005
    assert {c["expected"] for c in cases.values()} == {2.66e9, 208.5, 15.4, 115.3, 0.005}
    assert not any(c["exact"] for c in cases.values())
