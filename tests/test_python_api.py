"""The mapper from Python (issue 11, item 14): ``loopnest.map_network`` takes what ``loopnest
evaluate`` takes, with its defaults, and the README's Python examples run as written."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import loopnest
from loopnest.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_map_network_gives_what_evaluate_json_prints():
    # the CLI's defaults (auto mode, the architecture's own dataflow: eyeriss' rs) on both sides
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.output[r.output.index("{"):])
    py = loopnest.map_network("lenet5", "eyeriss", jobs=1).to_dict()
    assert py["dataflow"] == cli["dataflow"] == "rs" and py["mode"] == cli["mode"] == "auto"
    assert py["totals"] == cli["totals"]
    assert [row["mapping"] for row in py["layers"]] == [row["mapping"] for row in cli["layers"]]


def test_map_network_defaults_are_the_clis():
    params = inspect.signature(loopnest.map_network).parameters
    assert params["mode"].default == "auto" and params["objective"].default == "energy"
    assert params["seed"].default == 0 and params["jobs"].default is None and params["batch"].default == 1


def test_map_network_takes_files_and_objects():
    from loopnest.arch import load_arch
    from loopnest.workload import load_network

    net = loopnest.map_network(ROOT / "examples" / "tiny_cnn.yaml", load_arch("eyeriss"), dataflow=None, jobs=1,
                               precision="weights=8,inputs=8")
    assert net.model == "tiny-cnn" and net.dataflow is None and len(net.mapped) == 4
    assert all(lo.problem.tensor("weights").bits == 8 for lo in net.mapped)
    same = loopnest.map_network(load_network(ROOT / "examples" / "tiny_cnn.yaml"), "eyeriss", dataflow="none",
                                jobs=1, precision="weights=8,inputs=8")
    assert same.to_dict()["totals"] == net.to_dict()["totals"]
    with pytest.raises(ValueError, match=r"unknown dataflow 'rss' \(did you mean 'rs'\?\)"):
        loopnest.map_network("lenet5", "eyeriss", dataflow="rss")


def test_the_readme_python_examples_run(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the examples name files of the repository (examples/...)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert any("loopnest.map_network" in b for b in blocks)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own example, run as a user would
    assert "conv1 exact" in capsys.readouterr().out
