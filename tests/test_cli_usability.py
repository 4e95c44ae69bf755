"""The command line as a new user meets it (issue 11, items 10, 11 and 13): version, `python -m`,
help with an example and no bogus types, suggestions for misspelled names, plain-text lists,
errors that blame what the user gave."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli_helpers import run_cli
from loopnest import __version__
from loopnest.cli import app

COMMANDS = [["validate"], ["model"], ["evaluate"], ["compare-dataflows"], ["eyexam"], ["roofline"],
            ["workload", "list"], ["workload", "stats"], ["arch", "list"], ["arch", "show"], ["arch", "validate"]]


def test_version_and_python_m():
    r = subprocess.run([sys.executable, "-m", "loopnest", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"loopnest {__version__}"


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example_and_no_bool_metavar(args):
    r = run_cli(*args, "--help", columns=100)
    assert r.returncode == 0, r.stderr
    assert "Example: loopnest " + " ".join(args) in r.stdout
    assert "<bool>" not in r.stdout


def test_the_command_list_is_not_hard_wrapped_mid_sentence():
    out = run_cli("--help", columns=200).stdout
    rows = [l for l in out[out.index("Commands"):].splitlines()[1:] if l.startswith("│ ")]
    # at 200 columns every one-line summary fits: no continuation row with an empty first column
    assert len(rows) >= 8 and not any(l[2:20].strip() == "" for l in rows), out


@pytest.mark.parametrize("args, message", [
    (["evaluate", "resnt50", "--arch", "eyeriss"], "unknown model 'resnt50' (did you mean 'resnet50'?)"),
    (["evaluate", "lenet5", "--arch", "eyriss"], "(did you mean 'eyeriss'?); presets are dadiannao-like, diannao-like, digital-same-area, edge-npu,"),
    (["eyexam", "alexnet:conv33"], "has no layer 'conv33' (did you mean 'conv3'?)"),
    (["eyexam", "alexnet:conv3", "--dataflow", "rss"], "unknown dataflow 'rss' (did you mean 'rs'?)"),
    (["evaluate", "lenet5", "--arch", "eyeriss", "--dataflow", "ws2"], "(did you mean 'ws'?)"),
    (["compare-dataflows", "alexnet", "--dataflows", "ws,os-x"], "unknown dataflow 'os-x' (did you mean 'os-c'?)"),
    (["evaluate", "lenet5", "--arch", "eyeriss", "--table", "eyeris65"],
     "energy table 'eyeris65' is unknown (did you mean 'eyeriss65'?); known tables: eyeriss65, horowitz45"),
])
def test_misspelled_names_get_a_suggestion_and_plain_lists(args, message):
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and message in r.output, r.output
    assert "presets/" not in r.output  # a --table typo must not blame an internal preset file
    assert "['" not in r.output  # lists as plain text, not Python reprs


def test_an_empty_mapping_file_is_named_without_internals(tmp_path):
    empty = tmp_path / "m.yaml"
    empty.write_text("")
    r = CliRunner().invoke(app, ["model", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", str(empty)])
    assert r.exit_code == 2 and f"{empty}: the file is empty" in r.output, r.output
    assert "_File" not in r.output


def test_compute_bound_with_idle_pes_names_the_mapping_not_the_compute_roof():
    # LeNet-5 conv1 on Eyeriss: 117,600 MACs in 1,680 cycles = 70 PEs busy of 168 (41.7 %); the
    # cycles are set by the MACs, but what limits them is how the layer maps onto the array
    import json

    data = json.loads(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json").stdout)
    conv1 = next(r for r in data["layers"] if r["name"] == "conv1")
    assert conv1["bound"] == "compute" and conv1["macs"] == 117_600 and conv1["cycles"] == 1_680
    assert conv1["limit"] == "mapping: 70 of 168 PEs busy"


def test_python_and_cli_share_the_auto_default():
    import inspect

    from loopnest.analysis.runs import best_records
    from loopnest.search.network import map_network

    assert inspect.signature(map_network).parameters["mode"].default == "auto"
    assert inspect.signature(best_records).parameters["mode"].default == "auto"
    r = CliRunner().invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200"})
    assert "[default: auto]" in r.output


def test_normalized_energies_have_unit_neutral_keys_and_kib_is_kib():
    # eyeriss65 is normalized (1 = one 16-bit MAC); Eyeriss' on-chip storage: 108 KiB global
    # buffer + 168 PEs x (224 + 12 + 24) 16-bit words = 110,592 + 87,360 bytes = 193.3 KiB
    import json

    data = json.loads(run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--table", "eyeriss65", "--jobs", "1", "--json").stdout)
    for row in data["layers"] + [data["totals"]]:
        assert row["energy_units"] == "norm" and row["energy"] == row["energy_pj"]
        assert row["energy_by_level"] == row["energy_by_level_pj"]
    assert data["sheet"]["on_chip_memory_KiB"] == (108 * 1024 + 168 * (224 + 12 + 24) * 2) / 1024


def test_output_and_reports_cite_sources_by_name(tmp_path):
    import re

    page = tmp_path / "r.html"
    r = run_cli("evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--report", str(page), columns=120)
    assert r.returncode == 0, r.stderr
    html = page.read_text()
    body = html[html.index("<body>"):html.index('<script id="loopnest-data"')]
    for text in (r.stdout, r.stderr, body):
        assert not re.search(r"seed ?-?\d{3}", text, flags=re.I)
    flat = " ".join(r.stdout.split())  # titles wrap to their table's width
    assert "eyeriss.mit.edu/benchmarking.html" in flat and "Sze et al., CICC 2017 tutorial" in flat


def test_lists_in_file_errors_are_plain_text(tmp_path):
    # issue 11, item 13: "lists printed as plain text (not Python reprs)"; these lines printed
    # "unknown level(s) ['GLB']" and "dimensions are ['N', 'G', ...]" before
    (tmp_path / "m.yaml").write_text("mapping:\n  - level: DRAM\n    temporal: {Z: 2}\n")
    (tmp_path / "c.yaml").write_text("constraints:\n  - level: GlobalBufer\n    keep: [inputs]\n")
    (tmp_path / "a.yaml").write_text("base: eyeriss\nname: x\nlevels:\n  - {name: DRAM, class: dram, word_bits: 16}\n"
                                     "  - {name: DRAM, class: dram, word_bits: 16}\n")
    cases = [
        (["model", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2", "--mapping", str(tmp_path / "m.yaml")],
         "unknown dimension 'Z'; dimensions are N, G, M, C, P, Q, R, S"),
        (["evaluate", "lenet5", "--arch", "eyeriss", "--constraints", str(tmp_path / "c.yaml")],
         "unknown level(s) GlobalBufer (did you mean 'GlobalBuffer'?); the architecture's levels are DRAM, GlobalBuffer, RF"),
        (["arch", "validate", str(tmp_path / "a.yaml")], "level names must be unique, repeated: DRAM"),
    ]
    for args, message in cases:
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2 and message in r.output and "['" not in r.output, r.output
