"""ZigZag mapping import (interop/zigzag_mapping.py), with small files written here in ZigZag's
formats (zigzag-dse 3.x: accelerator with memories, ports and served dimensions; workload with
equation and dimension_relations; mapping entries with spatial_mapping and temporal_ordering,
innermost loop first). Allocations are derived by hand from ZigZag's rule for its EVEN mapping
type (the module docstring)."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.cli import app
from loopnest.interop import InteropError, zigzag
from loopnest.interop.files import check
from loopnest.model import evaluate
from test_interop_zigzag_scalesim import TPU_LIKE, _file, _port

SMALL = f"""name: small
memories:
  rf:
    size: 64
    r_cost: 0.1
    w_cost: 0.1
    operands: [I2, O]
    ports: [{_port('r1', 'read', 8, 8)}, {_port('w1', 'write', 8, 8)}]
    served_dimensions: []
  gb:
    size: 4096
    r_cost: 5
    w_cost: 5
    operands: [I1, I2, O]
    ports: [{_port('r1', 'read', 8, 64)}, {_port('w1', 'write', 8, 64)}]
    served_dimensions: [D1, D2]
  dram:
    size: 10000000000
    r_cost: 100
    w_cost: 100
    operands: [I1, I2, O]
    ports: [{_port('rw1', 'read_write', 8, 64)}]
    served_dimensions: [D1, D2]
operational_array:
  unit_energy: 1
  dimensions: [D1, D2]
  sizes: [4, 4]
"""

LAYER = """- id: 0
  name: conv
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix=1*ox+1*fx, iy=1*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, 8, 4, 6, 6, 3, 3]
  operand_precision: {W: 8, I: 8, O: 8, O_final: 8}
"""

MAPPING = """- name: default
  core_allocation: [1]
  spatial_mapping:
    D1:
      - K, 4
    D2:
      - C, 4
  temporal_ordering:
    - [FX, 3]
    - [FY, 3]
    - [K, 2]
    - [OX, 6]
    - [OY, '*']
  memory_operand_links: {O: O, W: I2, I: I1}
"""


def _import(tmp_path, mapping=MAPPING, hw=SMALL, layer=LAYER):
    return zigzag.import_files([_file(tmp_path, "hw.yaml", hw), _file(tmp_path, "wl.yaml", layer),
                                _file(tmp_path, "map.yaml", mapping)])


def test_allocation_by_hand_and_evaluation(tmp_path):
    # Words of 8 bits. After the 4x4 unrolling (K 4 on X, C 4 on Y, at gb's fanout), the loops
    # innermost first are FX3 FY3 K2 OX6 OY6.
    # rf (W and O, 8 words): FX3 fits (W 3 + O 1 = 4), FY3 does not (9 + 1). Prefix 0 leaves 216
    #   iterations x 2 words, prefix 1 leaves 72 x 4: rf takes FX3.
    # gb (I, W, O, 512 words; its tile includes K4 and C4): with FY3 K2 OX6 the tiles are W 288,
    #   O 8*6 = 48, I 4*3*8 = 96 (432 words); adding OY6 gives 288 + 288 + 256 = 832 > 512.
    #   Accesses above (loops left x words): 216*64, 72*184, 36*332, 6*432: gb takes FY3 K2 OX6.
    # dram takes OY6.
    imp = _import(tmp_path)
    arch, problem, m = check(imp, "test")
    levels = imp.mapping["mapping"]
    assert [lv["level"] for lv in levels] == ["dram", "gb", "rf"]
    assert levels[0]["temporal"] == {"P": 6}
    assert levels[1]["temporal"] == {"R": 3, "M": 2, "Q": 6} and levels[1]["order"] == ["Q", "M", "R"]  # outer -> inner
    assert levels[1]["spatial"] == {"x": {"M": 4}, "y": {"C": 4}}
    assert levels[2]["temporal"] == {"S": 3}
    r = evaluate(problem, arch, m)
    assert problem.macs == 8 * 4 * 6 * 6 * 3 * 3
    # gb holds all 288 weights and every reduction loop (C, R, S) is below dram: each weight is
    # read from dram once and each of the 8*6*6 = 288 outputs written there once.
    assert r.count("dram", "weights", "reads") == 288
    assert r.count("dram", "outputs", "updates") == 288


def test_default_entry_wildcards_and_notes(tmp_path):
    # No temporal ordering for K: its 2 left become the outermost loop (noted); an entry named
    # like the layer wins over default; ['*', '*'] takes every dimension left.
    named = MAPPING.replace("name: default", "name: conv").replace("    - [K, 2]\n", "")
    # gb: FY3 OX6 give W 144 + O 24 + I 96 = 264 words; OY6 more would need 144 + 144 + 256 = 544.
    imp = _import(tmp_path, named + MAPPING.replace("D1:\n      - K, 4", "D1:\n      - K, 2"))
    assert imp.mapping["mapping"][0]["temporal"] == {"P": 6, "M": 2} and imp.mapping["mapping"][0]["order"] == ["M", "P"]
    assert any("leaves M 2" in line for line in imp.notes.lines())
    star = MAPPING.replace("    - [K, 2]\n    - [OX, 6]\n    - [OY, '*']\n", "    - ['*', '*']\n")
    imp = _import(tmp_path, star)
    check(imp, "test")
    assert any("['*', '*']" in line for line in imp.notes.lines())
    big = MAPPING.replace("K, 4", "K, 64")  # above the 4-wide array: cut to 4, as ZigZag does
    assert _import(tmp_path, big).mapping == _import(tmp_path).mapping


def test_bad_mappings_are_one_line_errors(tmp_path):
    with pytest.raises(InteropError, match=r"map.yaml: \[0\] \(default\).spatial_mapping.D1: K unrolled 3 does not divide"):
        _import(tmp_path, MAPPING.replace("K, 4", "K, 3"))
    with pytest.raises(InteropError, match="temporal_ordering.*size 4 of OY must be"):
        _import(tmp_path, MAPPING.replace("[OY, '*']", "[OY, 4]"))
    with pytest.raises(InteropError, match="no mapping entry named 'conv', 'Conv' or 'default'"):
        _import(tmp_path, MAPPING.replace("name: default", "name: other"))
    with pytest.raises(InteropError, match="with its accelerator and a workload of one MAC layer"):
        zigzag.import_files([_file(tmp_path, "wl.yaml", LAYER), _file(tmp_path, "map.yaml", MAPPING)])
    # TPU-like: the weights' register (1024 bits) sits above the outputs' (16 bits) in loopnest's
    # chain; loops the outputs' register takes must then fit the weights' too.
    tpu_map = MAPPING.replace("K, 4", "K, 8").replace("    - [K, 2]\n", "")
    with pytest.raises(InteropError, match="memory rf_128B cannot hold the tiles"):
        zigzag.import_files([_file(tmp_path, "hw.yaml", TPU_LIKE.replace("size: 1024", "size: 16")),
                             _file(tmp_path, "wl.yaml", LAYER), _file(tmp_path, "map.yaml", tpu_map)])


def test_cli_import_writes_a_mapping_that_model_evaluates(tmp_path):
    files = [_file(tmp_path, "hw.yaml", SMALL), _file(tmp_path, "wl.yaml", LAYER), _file(tmp_path, "map.yaml", MAPPING)]
    out = tmp_path / "zz.yaml"
    r = CliRunner().invoke(app, ["import", "zigzag", *files, "-o", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["model", "--arch", str(tmp_path / "zz.arch.yaml"), "--layer",
                                 str(tmp_path / "zz.layer.yaml"), "--mapping", str(tmp_path / "zz.mapping.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["macs"] == 10368 and data["levels"][0]["counts_words"]["weights"]["reads"] == 288
    assert all(lv["capacity_ok"] for lv in data["levels"])
