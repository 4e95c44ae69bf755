"""Every JSON the CLI prints is strict JSON (RFC 8259: no NaN or Infinity), and inputs that once
printed invalid JSON or a traceback give one error line (fuzz findings: a layer named ``.inf`` in
YAML printed ``"layer": Infinity``; an ONNX node name that is not UTF-8 crashed ``--format json``)."""

import importlib.util
import json

import pytest
import typer
from codesign_helpers import digits_cache  # noqa: F401  (a fixture)
from typer.main import get_command
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.cli.common import print_json


def strict_loads(text: str):
    """json.loads that rejects the NaN / Infinity / -Infinity tokens Python's json writes by default."""
    def reject(token):
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=reject)


def json_commands(group=None, path=()) -> set[tuple[str, ...]]:
    """Every command (by its path of names) with a --json or --format option."""
    group = group or get_command(app)
    found = set()
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            found |= json_commands(cmd, path + (name,))
        elif any(o in ("--json", "--format") for p in cmd.params for o in getattr(p, "opts", ())):
            found.add(path + (name,))
    return found


@pytest.fixture
def layer_spec(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("layer: {type: conv2d, name: small, C: 4, M: 8, H: 8, W: 8, R: 3, padding: 1}\n")
    return str(path)


def invocations(layer_spec: str) -> dict[tuple[str, ...], list[str]]:
    from pathlib import Path

    from loopnest.dse.store import Store

    store = Path(layer_spec).with_name("sweep.sqlite")
    timeloop = Path(layer_spec).with_name("prob.yaml")
    timeloop.write_text("problem: {shape: {dimensions: [K, C], data-spaces: [{name: Weights, projection: [[[K]], [[C]]]}, "
                        "{name: Inputs, projection: [[[C]]]}, {name: Outputs, projection: [[[K]]], read-write: true}]}, "
                        "instance: {K: 4, C: 8}}\n")
    topology = Path(layer_spec).with_name("gemm.csv")
    topology.write_text("Layer Name, M, N, K,\nfc, 4, 8, 16,\n")
    workload = Path(layer_spec).with_name("zigzag.yaml")
    workload.write_text("- {name: fc, equation: 'O[k]+=W[k][c]*I[c]', loop_dims: [K, C], loop_sizes: [4, 8]}\n")
    Store(store).close()  # an empty sweep store
    return {
        ("arch", "show"): ["arch", "show", "eyeriss", "--json"],
        ("workload", "stats"): ["workload", "stats", "lenet5", "--format", "json"],
        ("validate",): ["validate", "--json", "--suite", "timeloop-reference"],
        ("model",): ["model", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2",
                     "--mapping", "examples/resnet50_conv2_rs.yaml", "--json"],
        ("evaluate",): ["evaluate", "lenet5", "--arch", "eyeriss", "--jobs", "1", "--json"],
        ("compare-dataflows",): ["compare-dataflows", "lenet5", "--batch", "1", "--jobs", "1", "--json"],
        ("eyexam",): ["eyexam", layer_spec, "--json"],
        ("roofline",): ["roofline", "lenet5", "--jobs", "1", "--json"],
        ("sweep", "show"): ["sweep", "show", str(store), "--json"],
        ("import", "timeloop"): ["import", "timeloop", str(timeloop), "-o", str(timeloop.with_name("fc.yaml")), "--json"],
        ("import", "scalesim"): ["import", "scalesim", str(topology), "-o", str(topology.with_name("g.yaml")), "--json"],
        ("import", "zigzag"): ["import", "zigzag", str(workload), "-o", str(workload.with_name("z.yaml")), "--json"],
        ("codesign", "precision"): ["codesign", "precision", "digits-cnn2", "--bits", "8", "--jobs", "1", "--json"],
        ("codesign", "netadapt"): ["codesign", "netadapt", "digits-cnn2", "--budget", "latency=1x", "--json"],
        ("codesign", "prune"): ["codesign", "prune", "digits-cnn2", "--method", "magnitude", "--finetune-epochs", "0", "--json"],
        ("codesign", "prune-compare"): ["codesign", "prune-compare", "digits-cnn2", "--arch", "eyeriss", "--budgets", "0",
                                        "--targets", "1", "--finetune-epochs", "0", "--json"],
        ("codesign", "pim-study"): ["codesign", "pim-study", "--networks", "digits-cnn2", "--zoo", "", "--sigma", "0,0.5",
                                    "--weight-bits", "4", "--adc-bits", "8", "--array-sizes", "128", "--seeds", "0", "--json"],
        ("codesign", "densities"): ["codesign", "densities", "digits-cnn2", "-o", str(store.with_name("densities.yaml")), "--json"],
    }


def test_every_json_the_cli_prints_is_strict_json(layer_spec, digits_cache):
    runs = invocations(layer_spec)
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("sklearn") is None:
        studies = {k for k in runs if k[0] == "codesign"}  # the studies need the codesign extra
        runs = {k: v for k, v in runs.items() if k not in studies}
        assert json_commands() - set(runs) == studies
    else:
        assert json_commands() == set(runs), "a command prints JSON that this test does not run: add it above"
    for path, args in runs.items():
        out = CliRunner().invoke(app, args)
        assert out.exit_code == 0, (path, out.output)
        assert isinstance(strict_loads(out.stdout), dict), path


@pytest.mark.parametrize("name", [".inf", "-.inf", ".nan", "1.5", "12", "true", "yes", "null", "~"])
def test_layer_names_yaml_reads_as_non_strings_are_one_error_line(tmp_path, name):
    # YAML 1.1 (PyYAML) reads these unquoted as float, int, bool or None; names are strings
    # and are not coerced (".inf" would become "inf"): the error says to quote them
    spec = tmp_path / "odd.yaml"
    spec.write_text(f"layer: {{type: conv2d, name: {name}, C: 4, M: 4, H: 8, W: 8, R: 3}}\n")
    out = CliRunner().invoke(app, ["eyexam", str(spec), "--json"])
    assert out.exit_code == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "field layer.name: Input should be a valid string" in lines[0], out.stderr
    assert "quote" in lines[0] and "odd.yaml" in lines[0]
    spec.write_text(f"layer: {{type: conv2d, name: '{name}', C: 4, M: 4, H: 8, W: 8, R: 3}}\n")  # quoted: fine
    out = CliRunner().invoke(app, ["eyexam", str(spec), "--json"])
    assert out.exit_code == 0 and strict_loads(out.stdout)["layer"] == name


def test_print_json_refuses_what_strict_json_cannot_hold():
    cli = typer.Typer()

    @cli.command()
    def show(what: str) -> None:
        print_json({"inf": float("inf"), "nan": float("nan"), "bytes": b"\xff"}[what])

    for what in ("inf", "nan", "bytes"):
        out = CliRunner().invoke(cli, [what])
        assert out.exit_code == 2 and out.stdout == "" and "internal error" in out.stderr, what
        assert len(out.stderr.strip().splitlines()) == 1
