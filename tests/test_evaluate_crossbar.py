"""The crossbar route of `loopnest evaluate` and `loopnest model` (issue 15): on an architecture
with a compute.pim block the layers are mapped by the crossbar mapper, with the energy by
component in the output. Counts are derived by hand from the counting rules of
loopnest.model.crossbar (rules 1 and 2) for digits-cnn2's conv2 on the ISAAC-like preset."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.model.crossbar import COMPONENTS

RUN = CliRunner()


def _json(*args):
    out = RUN.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


@pytest.fixture(scope="module")
def cnn2():
    return _json("evaluate", "digits-cnn2", "--arch", "pim-crossbar")


def test_evaluate_on_a_pim_preset_uses_the_crossbar_mapper(cnn2):
    # The old route ran the loop-nest mapper (energy by storage level, no converters): this fails on it.
    assert cnn2["mapper"] == "crossbar"
    conv2 = next(r for r in cnn2["layers"] if r["layer"] == "conv2")
    # conv2: 3x3x8 -> 16 on 8x8 outputs: K = 72 rows, M = 16 weights (8 cells of 2 bits each), V = 64
    # vectors of 16-bit inputs through 1-bit DACs = 16 passes; one column tile (16 x 8 = 128 columns).
    assert conv2["counts"]["dac_conversions"] == 64 * 16 * 72  # rule 1: V * passes * K * n_c
    assert conv2["counts"]["adc_conversions"] == 64 * 16 * 16 * 8  # rule 2: V * passes * n_r * M * cpw
    assert conv2["utilization"] == pytest.approx(72 * 128 / (128 * 128))
    assert set(conv2["energy_pj"]) == set(COMPONENTS)


def test_totals_are_the_layers_summed_by_component(cnn2):
    t = cnn2["totals"]
    for c in COMPONENTS:
        assert t["energy_pj"][c] == pytest.approx(sum(r["energy_pj"][c] for r in cnn2["layers"]))
    assert t["macs"] == 18_432 + 73_728 + 2_560  # digits-cnn2: 3x3x1x8 x 16x16, 3x3x8x16 x 8x8, 160 x 16
    assert t["pj_per_mac"] == pytest.approx(t["total_pj"] / t["macs"])
    assert t["cycles"] == sum(r["cycles"] for r in cnn2["layers"])


def test_table_names_the_route_and_the_components():
    out = RUN.invoke(app, ["evaluate", "digits-cnn2", "--arch", "pim-crossbar"], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "crossbar mapper" in out.output and "--mapper loopnest" in out.output
    assert all(c in out.output for c in COMPONENTS)


def test_mapper_loopnest_keeps_the_loop_nest_route():
    data = _json("evaluate", "digits-cnn2", "--arch", "pim-crossbar", "--mapper", "loopnest", "--jobs", "1")
    assert "mapper" not in data and "energy_by_level_pj" in data["totals"]


@pytest.mark.parametrize("args,message", [
    (["--dataflow", "ws"], "--dataflow: a loop-nest mapper option"),
    (["--csv"], "--csv: a loop-nest mapper option"),
    # the crossbar mapper is deterministic and runs in one process: --jobs and --seed would be ignored
    (["--jobs", "2"], "--jobs: a loop-nest mapper option"),
    (["--seed", "3"], "--seed: a loop-nest mapper option"),
    (["--objective", "0.5*energy+0.5*cycles"], "--objective: the crossbar mapper takes energy, cycles, edp"),
    (["--mapper", "nope"], "--mapper: 'nope' is not one of auto, loopnest, crossbar"),
])
def test_bad_options_on_the_crossbar_route_are_one_line(args, message):
    out = RUN.invoke(app, ["evaluate", "digits-cnn2", "--arch", "pim-crossbar", *args])
    assert out.exit_code != 0 and message in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_crossbar_mapper_needs_a_pim_architecture():
    out = RUN.invoke(app, ["evaluate", "digits-cnn2", "--arch", "eyeriss", "--mapper", "crossbar"])
    assert out.exit_code != 0 and "no compute.pim block" in out.output


def test_mappings_round_trip_through_model(tmp_path, cnn2):
    folder = tmp_path / "maps"
    RUN.invoke(app, ["evaluate", "digits-cnn2", "--arch", "pim-crossbar", "--mappings", str(folder)])
    assert sorted(p.name for p in folder.iterdir()) == ["conv1.yaml", "conv2.yaml", "fc.yaml"]
    got = _json("model", "--arch", "pim-crossbar", "--layer", "digits-cnn2:conv2", "--mapping", str(folder / "conv2.yaml"))
    want = next(r for r in cnn2["layers"] if r["layer"] == "conv2")
    fields = ("rows_per_array", "groups_per_array", "replication")
    assert got["mapper"] == "crossbar" and got["choice"]["options_searched"] == 1
    assert [got["choice"][f] for f in fields] == [want["choice"][f] for f in fields]
    assert got["total_pj"] == pytest.approx(want["total_pj"])


def test_model_costs_a_given_choice(tmp_path):
    # conv2 (K = 72) on 64 rows per array: 2 row tiles, so twice the ADC conversions of one tile and
    # (2 - 1) extra addition per output per vector (rule 4's second term).
    path = tmp_path / "x.yaml"
    path.write_text("crossbar: {rows_per_array: 64, replication: 1}\n")
    d = _json("model", "--arch", "pim-crossbar", "--layer", "digits-cnn2:conv2", "--mapping", str(path))
    assert d["row_tiles"] == 2 and d["choice"]["replication"] == 1
    assert d["counts"]["adc_conversions"] == 2 * 64 * 16 * 16 * 8
    assert d["cycles"] == 64 * 16  # one array round, 64 vectors one after another, 16 passes each


@pytest.mark.parametrize("text,message", [
    ("crossbar: {rows: 64}\n", "field crossbar.'rows': unknown"),
    ("crossbar: {rows_per_array: 0}\n", "field crossbar.rows_per_array: an integer >= 1, got 0"),
    ("crossbar: {rows_per_array: 256}\n", "crossbar.rows_per_array: 256 exceeds the array's 128 rows"),
    ("crossbar: {rows_per_array: 64, replication: 9}\n", "crossbar.replication: 9 copies exceed the 8 arrays"),
    ("crossbar: {rows_per_array: 64, replication: 8}\n", "replication 8 needs 16 arrays"),
])
def test_bad_crossbar_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    out = RUN.invoke(app, ["model", "--arch", "pim-crossbar", "--layer", "digits-cnn2:conv2", "--mapping", str(path)])
    assert out.exit_code != 0 and message in out.output and str(path) in " ".join(out.output.split())


def test_crossbar_file_on_a_digital_architecture(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("crossbar: {rows_per_array: 64}\n")
    out = RUN.invoke(app, ["model", "--arch", "eyeriss", "--layer", "digits-cnn2:conv2", "--mapping", str(path)])
    assert out.exit_code != 0 and "no compute.pim block" in out.output


def test_python_api_is_the_command(cnn2):
    import loopnest

    data = loopnest.map_crossbar_network("digits-cnn2", "pim-crossbar")
    assert data["totals"] == cnn2["totals"] and data["mapper"] == "crossbar"
