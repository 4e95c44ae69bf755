"""ZigZag export: a loopnest layer and mapping as a ZigZag workload and mapping (zigzag-dse 3.x
syntax: ``spatial_mapping`` {D1: ['K, 32'], ...}, ``temporal_ordering`` [[dim, size], ...]
innermost first, ``memory_operand_links`` {O: O, W: I2, I: I1}, as in ZigZag's own
inputs/mapping/*.yaml). Expected files are written here by hand from the loop nests."""

import pytest
import yaml

from loopnest.interop import InteropError, zigzag
from loopnest.interop.files import check
from loopnest.interop.zigzag_export import write_zigzag, zigzag_layer, zigzag_mapping
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.workload.layer_ref import load_layer, parse_layer_spec

from test_interop_zigzag_scalesim import CONV, TPU_LIKE, _file


def _tpu_and_conv(tmp_path, hw=TPU_LIKE):
    arch, problem, _ = check(zigzag.import_files([_file(tmp_path, "hw.yaml", hw), _file(tmp_path, "wl.yaml", CONV)]),
                             "test")
    return arch, problem


def test_workload_exports_back_to_zigzags_own_equation(tmp_path):
    """ZigZag's conv1 (written in ZigZag's format in test_interop_zigzag_scalesim), imported, then
    exported: the same equation, relations, loop sizes and precisions as the original text."""
    _, problem = _tpu_and_conv(tmp_path)
    layer = zigzag_layer(problem)
    original = yaml.safe_load(CONV)[0]
    assert layer["equation"] == original["equation"] == "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]"
    assert sorted(layer["dimension_relations"]) == sorted(original["dimension_relations"])
    assert dict(zip(layer["loop_dims"], layer["loop_sizes"])) == dict(zip(original["loop_dims"], original["loop_sizes"]))
    assert layer["operand_precision"] == {"W": 8, "I": 8, "O": 8, "O_final": 8}


@pytest.mark.parametrize("ref", ["resnet50:conv1", "resnet50:layer1.0.conv2", "mobilenet_v1:conv2.dw"])
def test_zoo_layer_round_trips_through_zigzags_workload(tmp_path, ref):
    """A strided 7x7 conv, a padded 3x3 conv and a depthwise conv (G = channels): exported and
    imported back, the same sizes, MACs and tensor projections (loopnest names)."""
    p = load_layer(ref, 1)
    text = yaml.safe_dump([zigzag_layer(p)])
    back = parse_layer_spec(zigzag.import_files([_file(tmp_path, "wl.yaml", text)]).layers[0])
    assert dict(back.dims) == dict(p.dims) and back.macs == p.macs
    for role in ("inputs", "weights", "outputs"):
        assert [dict(a) for a in back.tensor(role).indices] == [dict(a) for a in p.tensor(role).indices], role


def test_mapping_spatial_and_temporal_ordering_by_hand(tmp_path):
    """tpu_like (32 x 32 below sram_2MB: D1 = X, D2 = Y), conv1 K16 C4 OY7 OX7 FY3 FX3. Loop nest,
    outer -> inner: dram OY7 | sram_2MB FY3 OX7, spatial K16 on X and C4 on Y | rf_128B FX3.
    ZigZag's temporal ordering lists it innermost first: FX3, OX7, FY3, OY7."""
    arch, problem = _tpu_and_conv(tmp_path)
    m = Mapping((LevelMapping({"P": 7}, ("P",)),
                 LevelMapping({"R": 3, "Q": 7}, ("R", "Q"), spatial_x={"M": 16}, spatial_y={"C": 4}),
                 LevelMapping({"S": 3}, ("S",)), LevelMapping()))
    entry, head = zigzag_mapping(problem, arch, m)
    assert entry == {"name": "conv1", "spatial_mapping": {"D1": ["K, 16"], "D2": ["C, 4"]},
                     "temporal_ordering": [["FX", 3], ["OX", 7], ["FY", 3], ["OY", 7]],
                     "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    assert head[0] == "Array dimensions: D1 = sram_2MB fanout X (32), D2 = sram_2MB fanout Y (32)"
    assert "FX 3 @ rf_128B; OX 7 @ sram_2MB; FY 3 @ sram_2MB; OY 7 @ dram" in head[1]
    assert not any("Bypassed" in line for line in head)
    # the SRAM bypassing the inputs in loopnest's mapping: named in the header, not dropped
    m2 = Mapping((m.levels[0], LevelMapping({"R": 3, "Q": 7}, ("R", "Q"), spatial_x={"M": 16}, spatial_y={"C": 4},
                                            keep=frozenset({"outputs"})), m.levels[2], m.levels[3]))
    assert zigzag_mapping(problem, arch, m2)[1][-1].endswith("sram_2MB: inputs")


def test_split_fanouts_number_the_array_dimensions_outer_to_inner(tmp_path):
    """A memory served over D2 only splits the array: X (32) below sram_2MB is D1, Y (32) below
    rf_128B is D2, as the importer reads them; a dimension on both axes is listed on both."""
    hw = TPU_LIKE.replace("served_dimensions: []\n  rf_2B", "served_dimensions: [D2]\n  rf_2B", 1)
    arch, problem = _tpu_and_conv(tmp_path, hw)
    m = Mapping((LevelMapping({"P": 7, "Q": 7, "R": 3, "S": 3}, ("P", "Q", "R", "S")),
                 LevelMapping(spatial_x={"M": 8, "C": 4}), LevelMapping(spatial_y={"M": 2}), LevelMapping()))
    entry, head = zigzag_mapping(problem, arch, m)
    assert entry["spatial_mapping"] == {"D1": ["K, 8", "C, 4"], "D2": ["K, 2"]}
    assert entry["temporal_ordering"] == [["FX", 3], ["FY", 3], ["OX", 7], ["OY", 7]]
    assert head[0] == "Array dimensions: D1 = sram_2MB fanout X (32), D2 = rf_128B fanout Y (32)"


def test_colliding_dimension_names_are_refused(tmp_path):
    """An einsum with both M and K: both would be ZigZag's K."""
    spec = {"layer": {"type": "einsum", "name": "mk", "dims": {"M": 2, "K": 3}, "tensors": [
        {"name": "A", "role": "inputs", "indices": [{"K": 1}]}, {"name": "B", "role": "weights", "indices": [{"M": 1}, {"K": 1}]},
        {"name": "Z", "role": "outputs", "indices": [{"M": 1}]}]}}
    with pytest.raises(InteropError, match="collide in ZigZag's names"):
        zigzag_layer(parse_layer_spec(spec))


def test_cli_export_zigzag_writes_workload_and_mapping(tmp_path):
    """The shipped row-stationary mapping on eyeriss: GLB fanout 14 x 12 is D1 x D2; spatial
    x {M: 2, P: 7}, y {M: 2, C: 2, R: 3} (examples/resnet50_conv2_rs.yaml)."""
    from typer.testing import CliRunner

    from loopnest.cli import app

    out = tmp_path / "rs.yaml"
    r = CliRunner().invoke(app, ["export", "zigzag", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2",
                                 "--mapping", "examples/resnet50_conv2_rs.yaml", "-o", str(out)])
    assert r.exit_code == 0, r.output
    mapping = yaml.safe_load((tmp_path / "rs.mapping.yaml").read_text())[0]
    assert mapping["spatial_mapping"] == {"D1": ["K, 2", "OY, 7"], "D2": ["K, 2", "C, 2", "FY, 3"]}
    # RF (inner) M16 C4 S3 in order [M, C, S]; GLB C8 P2 Q56 in [C, P, Q]; DRAM P4: innermost first
    assert mapping["temporal_ordering"] == [["FX", 3], ["C", 4], ["K", 16], ["OX", 56], ["OY", 2], ["C", 8],
                                            ["OY", 4]]
    workload = yaml.safe_load((tmp_path / "rs.workload.yaml").read_text())
    assert workload[0]["loop_sizes"] == [1, 1, 64, 64, 56, 56, 3, 3]
    acc = yaml.safe_load((tmp_path / "rs.accelerator.yaml").read_text())
    assert acc["operational_array"]["sizes"] == [14, 12] and "RF_weights" in acc["memories"]


def test_write_zigzag_unwritable_folder_is_one_error(tmp_path):
    arch, problem = _tpu_and_conv(tmp_path)
    dims = problem.dims
    m = Mapping((LevelMapping(dict(dims), tuple(dims)), LevelMapping(), LevelMapping(), LevelMapping()))
    with pytest.raises(InteropError, match="cannot write"):
        write_zigzag(problem, arch, m, tmp_path / "missing" / "x.yaml")


def test_evaluate_export_zigzag_writes_each_layer_with_its_rows_loops(tmp_path):
    """evaluate --export-zigzag: per layer, spatial x temporal factors multiply to every loop size
    (ZigZag's rule), and the temporal ordering is the row's mapping (outer -> inner) reversed."""
    import json
    from math import prod

    from typer.testing import CliRunner

    from loopnest.cli import app
    from loopnest.interop.zigzag_export import TO_ZIGZAG

    spec = tmp_path / "row.yaml"
    spec.write_text("name: row16\nenergy_table: horowitz45\nlevels:\n"
                    "  - {name: DRAM, class: dram}\n"
                    "  - {name: GLB, capacity_words: 65536, fanout: {x: 16, y: 1}}\n"
                    "  - {name: RF, class: regfile, capacity_words: 64}\n")
    out = tmp_path / "zz"
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", str(spec), "--jobs", "1", "--json",
                                 "--export-zigzag", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["layers"]
    acc = yaml.safe_load((out / "accelerator.yaml").read_text())
    assert acc["memories"]["GLB"]["served_dimensions"] == ["D1"] and acc["operational_array"]["sizes"] == [16]
    for row in rows:
        wl = yaml.safe_load((out / f"{row['name']}.workload.yaml").read_text())[0]
        mp = yaml.safe_load((out / f"{row['name']}.mapping.yaml").read_text())[0]
        sizes = dict(zip(wl["loop_dims"], wl["loop_sizes"]))
        spatial = [s.split(", ") for d in mp["spatial_mapping"].values() for s in d]
        for dim, n in sizes.items():
            got = prod(f for d, f in mp["temporal_ordering"] if d == dim) * prod(int(f) for d, f in spatial if d == dim)
            assert got == n, (row["name"], dim)
        outer_first = [[TO_ZIGZAG.get(d, d), lv["temporal"][d]] for lv in row["mapping"] for d in lv["order"]]
        assert mp["temporal_ordering"] == outer_first[::-1], row["name"]


# Facts of ZigZag's shipped workloads (KULeuven-MICAS/zigzag, zigzag/inputs/workload/gemm_layer.yaml
# and the first layers of resnet18.yaml), written here in ZigZag's format.
ZIGZAG_GEMM = """- id: 0
  operator_type: Gemm
  equation: O[b][k]+=I[b][c]*W[c][k]
  dimension_relations: []
  loop_dims: [B, C, K]
  loop_sizes: [512, 512, 512]
  operand_precision: {W: 8, I: 8, O: 32, O_final: 32}
  operand_source: {I: 0, W: 0}
"""
ZIGZAG_RESNET18_HEAD = """- id: 0 # conv1 stride 2
  name: example_name_of_layer0
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, 64, 3, 112, 112, 7, 7]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 0, W: 0}
- id: 1 # max pool, stride 2
  operator_type: Pooling
  equation: O[b][g][oy][ox]+=W[fx][fy]*I[b][g][iy][ix]
  dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
  loop_dims: [B, G, OY, OX, FX, FY]
  loop_sizes: [1, 64, 56, 56, 3, 3]
  operand_precision: {I: 8, W: 0, O: 16, O_final: 8}
  operand_source: {I: 0, W: 1}
- id: 4 # Addition
  operator_type: Add
  equation: O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]
  loop_dims: [B, G, OY, OX]
  loop_sizes: [1, 64, 56, 56]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {W: 1, I: 3}
"""


def test_zigzag_shipped_workloads_import_and_export_back(tmp_path):
    """gemm_layer: I first in the product (O[b][k]+=I[b][c]*W[c][k]): I is still the inputs, W the
    weights; 512^3 = 134,217,728 MACs, batch B = 512 as N. resnet18's conv1: 64*3*112*112*7*7 =
    118,013,952 MACs, input index {P: 2, R: 1}; the pooling (W of 0 bits) and the Add are left out
    and reported. Each MAC layer exported again gives ZigZag's sizes back."""
    imp = zigzag.import_files([_file(tmp_path, "gemm.yaml", ZIGZAG_GEMM), _file(tmp_path, "r18.yaml", ZIGZAG_RESNET18_HEAD)])
    gemm, conv1 = (parse_layer_spec(lay) for lay in imp.layers)
    assert gemm.macs == 512 ** 3 and gemm.dims["N"] == 512
    assert [dict(a) for a in gemm.tensor("inputs").indices] == [{"N": 1}, {"C": 1}]
    assert [dict(a) for a in gemm.tensor("weights").indices] == [{"C": 1}, {"M": 1}]
    assert conv1.macs == 118_013_952 and dict(conv1.tensor("inputs").indices[2]) == {"P": 2, "R": 1}
    notes = "\n".join(imp.notes.lines())
    assert "operator_type Pooling" in notes and "operator_type Add" in notes
    assert zigzag_layer(gemm)["equation"] == "O[b][k]+=W[c][k]*I[b][c]"
    back = zigzag_layer(conv1)
    assert dict(zip(back["loop_dims"], back["loop_sizes"])) == {"B": 1, "K": 64, "C": 3, "OY": 112, "OX": 112,
                                                                "FY": 7, "FX": 7}


def test_accelerator_export_imports_back_to_the_hand_conversion(tmp_path):
    """benchmarks/peers/zigzag_tpu_like.yaml (ZigZag's tpu_like converted by hand) exported as a
    ZigZag accelerator and imported again: the same levels, capacities, blocks, bandwidths, keeps,
    energies and 32 x 32 fanout. rf_2B's 4 words/cycle (ZigZag's two 16-bit ports) become four
    8-bit ports, which import to the same bandwidth."""
    from loopnest.arch import load_arch
    from loopnest.interop.zigzag_export import accelerator_text, zigzag_accelerator

    hand = load_arch("benchmarks/peers/zigzag_tpu_like.yaml")
    acc, notes = zigzag_accelerator(hand)
    assert acc["memories"]["sram_2MB"]["size"] == 16777216 and acc["memories"]["sram_2MB"]["served_dimensions"] == ["D1", "D2"]
    assert acc["memories"]["rf_128B"]["served_dimensions"] == [] and acc["operational_array"]["sizes"] == [32, 32]
    assert [p["bandwidth_max"] for p in acc["memories"]["sram_2MB"]["ports"]] == [2048, 2048] and notes == []
    got, _, _ = check(zigzag.import_files([_file(tmp_path, "acc.yaml", accelerator_text(hand))], bits=8), "test")
    assert [lv.name for lv in got.levels] == [lv.name for lv in hand.levels]
    for g, h in zip(got.levels, hand.levels):
        for field in ("capacity_words", "word_bits", "block_words", "read_bandwidth", "write_bandwidth", "keeps",
                      "energy_pj"):
            assert getattr(g, field) == getattr(h, field), (g.name, field)
    assert (got.levels[1].fanout.x, got.levels[1].fanout.y) == (32, 32) and got.compute.energy_pj == 0.04


def test_accelerator_export_of_eyeriss_names_what_zigzag_lacks():
    """eyeriss: the RF's partitions as three memories (224, 12, 24 16-bit words = 3584, 192, 384
    bits) served by no array dimension; the GLB's network energy is named, not dropped."""
    from loopnest.arch import load_arch
    from loopnest.interop.zigzag_export import zigzag_accelerator

    acc, notes = zigzag_accelerator(load_arch("eyeriss", table="horowitz45"))
    mem = acc["memories"]
    assert {k: mem[k]["size"] for k in ("RF_weights", "RF_inputs", "RF_outputs")} == {
        "RF_weights": 3584, "RF_inputs": 192, "RF_outputs": 384}
    assert mem["RF_weights"]["operands"] == ["I2"] and mem["RF_weights"]["served_dimensions"] == []
    assert acc["operational_array"]["dimensions"] == ["D1", "D2"] and acc["operational_array"]["sizes"] == [14, 12]
    assert any("GlobalBuffer: network energy" in n for n in notes)
    with pytest.raises(InteropError, match="energies in norm"):
        zigzag_accelerator(load_arch("eyeriss", table="eyeriss65"))
