"""`loopnest arch list | show | validate`: output, JSON interface, exit codes."""

import json

import yaml
from typer.testing import CliRunner

from loopnest.cli import app

runner = CliRunner()


def test_list_names_every_preset():
    r = runner.invoke(app, ["arch", "list"])
    assert r.exit_code == 0, r.output
    for name in ("eyeriss", "eyeriss256-nlr", "tpu-v1", "pim-crossbar", "edge-npu"):
        assert name in r.output


def test_show_prints_levels_outer_to_inner():
    r = runner.invoke(app, ["arch", "show", "eyeriss"])
    assert r.exit_code == 0, r.output
    assert "outer -> inner" in r.output
    assert r.output.index("DRAM") < r.output.index("GlobalBuffer") < r.output.index("RF")
    assert "168 x MAC" in r.output


def test_show_json_interface():
    r = runner.invoke(app, ["arch", "show", "eyeriss", "--json", "--table", "eyeriss65"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["name"] == "eyeriss" and d["pes"] == 168 and d["total_area_um2"] > 0
    levels = {lv["name"]: lv for lv in d["levels"]}
    assert list(levels) == ["DRAM", "GlobalBuffer", "RF"]
    # ISCA 2016 normalized costs (seed 001): DRAM 200, buffer 6, RF 1 per 16-bit access
    assert [levels[n]["energy_pj"]["read"] for n in levels] == [200, 6, 1]
    assert levels["GlobalBuffer"]["capacity_words"] == 55296 and levels["GlobalBuffer"]["word_bits"] == 16
    assert levels["RF"]["instances"] == 168 and levels["RF"]["capacity_words"] == 260
    assert levels["GlobalBuffer"]["fanout"]["energy_pj"] == 2


def test_show_with_horowitz_table():
    d = json.loads(runner.invoke(app, ["arch", "show", "eyeriss", "--json", "--table", "horowitz45"]).output)
    assert d["energy_units"] == "pJ" and d["levels"][0]["energy_pj"]["read"] == 320  # 640 pJ per 32b (Horowitz)


def test_show_a_file_and_validate(tmp_path):
    spec = {"name": "mine", "energy_table": "horowitz45",
            "levels": [{"name": "DRAM", "class": "dram"}, {"name": "B", "capacity_words": "64 * 1024"}]}
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert runner.invoke(app, ["arch", "validate", str(path)]).exit_code == 0
    d = json.loads(runner.invoke(app, ["arch", "show", str(path), "--json"]).output)
    assert d["levels"][1]["capacity_words"] == 65536


def test_validate_bad_file_exits_non_zero_with_one_clear_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nlevels:\n  - {name: DRAM, class: dram, colour: red}\n")
    r = runner.invoke(app, ["arch", "validate", str(path)])
    assert r.exit_code != 0
    assert "bad.yaml" in r.output and "levels[0] (DRAM).colour: unknown field" in r.output
    assert "Traceback" not in r.output


def test_show_unknown_name():
    r = runner.invoke(app, ["arch", "show", "no-such-arch"])
    assert r.exit_code != 0 and "no such file and no such preset" in r.output


def test_every_preset_prints():
    from loopnest.arch import list_presets

    for name in list_presets():
        r = runner.invoke(app, ["arch", "show", name])
        assert r.exit_code == 0 and "total: area" in r.output, (name, r.output)
        assert runner.invoke(app, ["arch", "validate", name]).exit_code == 0
