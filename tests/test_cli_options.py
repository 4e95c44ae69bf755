"""Every command that maps accepts the same options, defined once in cli/common.py (issue 11,
item 5): a figure made with `--table eyeriss65` (or constraints, a seed, bit widths) by one
command can be made by every other."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codesign_helpers import digits_cache  # noqa: F401  (a fixture: the digits CNNs trained in this session's cache)
from loopnest.cli import app, command
from loopnest.cli import common

ROOT = Path(__file__).resolve().parents[1]
SHARED = ("--table", "--constraints", "--seed", "--jobs", "--precision")
HELP = {"--table": common.TABLE_HELP, "--constraints": common.CONSTRAINTS_HELP, "--jobs": common.JOBS_HELP,
        "--precision": common.PRECISION_HELP}
# options a mapping command does not take, each for a reason that holds for it alone
EXEMPT = {
    "eyexam": {"--jobs": "one layer: its two searches run in one process"},
    "codesign precision": {"--precision": "the study sets the bit widths (--bits)"},
    "codesign netadapt": {"--jobs": "the lookup table searches one (layer, M, C) entry at a time"},
}


def _commands() -> dict:
    out = {}

    def walk(group, prefix):
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):  # a group (typer ships its own click: no isinstance)
                walk(sub, f"{prefix}{name} ")
            else:
                out[f"{prefix}{name}"] = sub
    walk(command(), "")
    return out


def _options(cmd) -> dict:
    return {o: p for p in cmd.params if p.param_type_name == "option" for o in p.opts}


def test_every_mapping_command_has_the_shared_options():
    # a command maps when it takes --mode (the mapper's); before this test compare-dataflows had no
    # --table, --constraints or --seed, eyexam and roofline no --constraints or --seed
    mapping = {n: c for n, c in _commands().items() if "--mode" in _options(c)}
    assert {"evaluate", "compare-dataflows", "eyexam", "roofline", "codesign precision", "codesign netadapt",
            "codesign prune"} <= set(mapping)
    for name, cmd in mapping.items():
        opts = _options(cmd)
        missing = [o for o in SHARED if o not in opts and o not in EXEMPT.get(name, {})]
        assert not missing, f"{name} lacks {missing}"
        for o, text in HELP.items():  # one definition: the same help everywhere
            if o in opts:
                assert opts[o].help == text, (name, o)
        if "--jobs" in opts:
            assert opts["--jobs"].default is None, name
        assert opts["--seed"].default == 0, name
    assert set(EXEMPT) <= set(mapping)  # no stale exemption


def test_commands_that_load_an_architecture_take_table_and_precision():
    cmds = _commands()
    for name in ("model", "evaluate", "roofline", "eyexam"):
        assert {"--table", "--precision"} <= set(_options(cmds[name])), name


@pytest.mark.parametrize("args", [
    ["evaluate", "lenet5", "--arch", "eyeriss"],
    ["roofline", "lenet5", "--arch", "eyeriss"],
    ["eyexam", "lenet5:conv1", "--arch", "eyeriss"],
    ["compare-dataflows", "lenet5", "--dataflows", "rs"],
])
def test_constraints_are_read_by_every_mapping_command(tmp_path, args):
    bad = tmp_path / "c.yaml"
    bad.write_text("constraints:\n  - level: Nowhere\n    temporal: {C: 1}\n")
    r = CliRunner().invoke(app, [*args, "--constraints", str(bad), "--jobs", "1"] if args[0] != "eyexam"
                           else [*args, "--constraints", str(bad)])
    assert r.exit_code != 0 and str(bad) in " ".join(r.output.split()) and "Nowhere" in r.output, r.output
    assert "Traceback" not in r.output


def test_compare_dataflows_takes_the_table(tmp_path):
    # eyeriss65 (the presets' own) is normalized; horowitz45 is in pJ: the units say which table ran
    net = tmp_path / "one.yaml"
    net.write_text("layer: {type: conv2d, name: c, C: 4, M: 8, H: 8, W: 8, R: 3}\n")
    import json

    for table, units in (("horowitz45", "pJ"), (None, "norm")):
        args = ["compare-dataflows", str(net), "--dataflows", "rs", "--batch", "1", "--jobs", "1", "--json"]
        r = CliRunner().invoke(app, args + (["--table", table] if table else []))
        assert r.exit_code == 0, r.output
        assert json.loads(r.output[r.output.index("{"):])["energy_units"] == units


def test_help_paragraphs_are_not_broken_where_the_source_wraps():
    r = CliRunner().invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert "energy (by level with --wide), energy per MAC" in " ".join(r.output.split())
    r = CliRunner().invoke(app, ["evaluate", "--help"], env={"COLUMNS": "200"})
    assert "energy\n" not in r.output.replace("│", "")


def test_remainder_folds_switch(tmp_path):
    """`evaluate --remainder-folds/--no-remainder-folds` (one definition in cli/common.py, the
    mapper's default, the same in the Python API): ResNet-50's fc (C 2048, M 1000) on eyeriss, where
    a partial last fold of M wins the energy (tests/test_padded_folds.py), names the fold in the
    JSON (``search.folds``) only with the switch on."""
    import inspect
    import json

    from loopnest.search import api
    from loopnest.search.mapper import REMAINDER_FOLDS

    opts = _options(_commands()["evaluate"])
    assert opts["--remainder-folds"].default is REMAINDER_FOLDS and opts["--remainder-folds"].help == common.REMAINDER_FOLDS_HELP
    assert "--no-remainder-folds" in opts["--remainder-folds"].secondary_opts
    assert inspect.signature(api.map_network).parameters["remainder_folds"].default is REMAINDER_FOLDS
    fc = tmp_path / "fc.yaml"
    fc.write_text("layer: {type: fc, name: fc, C: 2048, M: 1000}\n")
    folds = {}
    for switch in ("--remainder-folds", "--no-remainder-folds"):
        r = CliRunner().invoke(app, ["evaluate", str(fc), "--arch", "eyeriss", "--json", "--jobs", "1", switch])
        assert r.exit_code == 0, r.output
        folds[switch] = json.loads(r.output)["layers"][0]["search"]["folds"]
    assert folds["--remainder-folds"]["M"][0] == 1000 and folds["--remainder-folds"]["M"][1] > 1000
    assert folds["--no-remainder-folds"] == {}


class _Reached(Exception):
    """Raised by the spy mappers below: the switch's value reached the mapper (nothing is searched)."""


# every command that runs the mapper, with the least that gets it there fast (one process: --jobs 1)
FOLD_COMMANDS = {
    "evaluate": ["evaluate", "{layer}", "--arch", "eyeriss", "--jobs", "1"],
    "compare-dataflows": ["compare-dataflows", "{layer}", "--dataflows", "rs", "--batch", "1", "--jobs", "1"],
    "roofline": ["roofline", "{layer}", "--jobs", "1"],
    "eyexam": ["eyexam", "{layer}:c"],
    "codesign precision": ["codesign", "precision", "digits-cnn2", "--bits", "8", "--jobs", "1"],
    "codesign netadapt": ["codesign", "netadapt", "digits-cnn2", "--budget", "energy=0.9x"],
    "codesign prune": ["codesign", "prune", "digits-cnn2", "--jobs", "1"],
    "codesign prune-compare": ["codesign", "prune-compare", "digits-cnn2", "--budgets", "1", "--targets", "1", "--jobs", "1"],
    "codesign pim-study": ["codesign", "pim-study", "--no-accuracy", "--networks", "digits-cnn2", "--zoo", "",
                           "--array-sizes", "64"],
}


def test_every_command_that_maps_takes_the_remainder_folds_switch():
    # before: only evaluate had it; the others searched exact splits whatever the user wanted
    cmds = _commands()
    mapping = {n for n, c in cmds.items() if "--mode" in _options(c)} | {"codesign pim-study"}
    assert mapping == set(FOLD_COMMANDS)
    for name in FOLD_COMMANDS:
        opt = _options(cmds[name]).get("--remainder-folds")
        assert opt is not None, name
        assert opt.help == common.REMAINDER_FOLDS_HELP and opt.secondary_opts == ["--no-remainder-folds"], name
        assert opt.default is False, name


@pytest.mark.parametrize("name", sorted(FOLD_COMMANDS))
@pytest.mark.parametrize("switch, value", [("--remainder-folds", True), ("--no-remainder-folds", False)])
def test_the_remainder_folds_switch_reaches_the_mapper(tmp_path, monkeypatch, request, name, switch, value):
    """Each command hands the switch's value to the mapper (``search_layer``, or ``map_network`` of
    the Python API): spies stand in for them, record the ``remainder_folds`` they were given and
    stop the command. The modules that bind these names at import are imported first, so that
    none keeps a spy past the test."""
    import loopnest.analysis.eyexam
    import loopnest.analysis.runs  # noqa: F401 (binds map_network)
    import loopnest.search.api
    import loopnest.search.mapper
    import loopnest.search.network
    import loopnest.search.subspaces  # noqa: F401 (binds search_layer)

    if name.startswith("codesign") and name != "codesign pim-study":
        pytest.importorskip("torch")
        pytest.importorskip("sklearn")
        request.getfixturevalue("digits_cache")  # never the user's cache
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("remainder_folds"))
        raise _Reached

    for module in (loopnest.search.mapper, loopnest.search.network, loopnest.analysis.eyexam):
        monkeypatch.setattr(module, "search_layer", spy)
    monkeypatch.setattr(loopnest.search.api, "map_network", spy)  # pim-study's digital side: all CPUs, no --jobs
    layer = tmp_path / "one.yaml"
    layer.write_text("layer: {type: conv2d, name: c, C: 4, M: 8, H: 8, W: 8, R: 3}\n")
    args = [a.replace("{layer}", str(layer)) for a in FOLD_COMMANDS[name]]
    r = CliRunner().invoke(app, [*args, switch])
    assert isinstance(r.exception, _Reached), (r.exit_code, r.output)
    assert seen == [value]
