"""Timeloop/Accelergy import and export.

Round trip (issue 18): the specs behind the `timeloop-reference` suite (Timeloop's tutorial
exercises 1-3, timeloop-accelergy-exercises, 2020.ispass/timeloop: Conv1D, Conv1D+OC, 2 and 3
levels, bypass), written here in Timeloop's own syntax (not copied from the repository), imported
and evaluated, give the same counts as loopnest's hand-written versions in
loopnest.validation.timeloop. The Timeloop syntax (tree of subtree/local, NAME[0..n-1], meshX,
factors "D=n", permutations inner -> outer, spatial split, keep/bypass) follows the exercises'
files and Timeloop's documentation as quoted in NVlabs/timeloop issues 52 and 162.
"""

from pathlib import Path

import pytest
import yaml

from loopnest.arch import load_arch
from loopnest.interop import InteropError
from loopnest.interop.export import write_timeloop
from loopnest.interop.files import check, write
from loopnest.interop.timeloop import import_files
from loopnest.mapping.io import load_mapping, parse_mapping
from loopnest.model import evaluate
from loopnest.validation import timeloop as ref
from loopnest.workload.layer_ref import load_layer, parse_layer_spec


def _arch_v3(*names: str) -> str:
    """The tutorial's 2- or 3-level architecture: 8-bit words, a 64 Ki-word buffer per level."""
    text = f"""architecture:
  version: 0.3
  subtree:
  - name: System
    attributes: {{technology: 45nm}}
    local:
    - name: {names[0]}
      class: DRAM
      attributes: {{width: 8, word-bits: 8}}
    subtree:
    - name: Chip
      local:
"""
    for n in names[1:]:
        text += f"""      - name: {n}
        class: SRAM
        attributes: {{depth: 65536, width: 8, word-bits: 8, block-size: 1}}
"""
    return text + """      - name: MACC
        class: intmac
        attributes: {datawidth: 8}
"""


def _problem(K: int) -> str:
    k = "K, " if K > 1 else ""
    kw = "[[K]], " if K > 1 else ""
    return f"""problem:
  shape:
    name: conv1d
    dimensions: [{k}R, P]
    data-spaces:
    - name: Weights
      projection: [{kw}[[R]]]
    - name: Inputs
      projection: [[[R], [P]]]
    - name: Outputs
      projection: [{kw}[[P]]]
      read-write: True
  instance: {{{'K: 32, ' if K > 1 else ''}R: 3, P: 16}}
"""


def _temporal(target: str, factors: str, perm: str) -> str:
    return f"- target: {target}\n  type: temporal\n  factors: {factors}\n  permutation: {perm}\n"


def _keep(target: str, keep: str, bypass: str) -> str:
    return f"- target: {target}\n  type: bypass\n  keep: [{keep}]\n  bypass: [{bypass}]\n"


# The reference mappings of loopnest.validation.timeloop._REFERENCE, in Timeloop's syntax
# (permutations inner -> outer: "RP" puts R innermost).
_GLB = _temporal("GLB", "K=16 R=1 P=16", "RPK")
_MAPPINGS = {
    "ex1 conv1d weight-stationary": _temporal("MainMemory", "R=3 P=1", "PR") + _temporal("Buffer", "R=1 P=16", "RP"),
    "ex1 conv1d output-stationary": _temporal("MainMemory", "R1 P16", "RP") + _temporal("Buffer", "R3 P1", "PR"),
    "ex2 conv1d+K untiled": _temporal("MainMemory", "K=32 R=1 P=16", "RPK") + _temporal("Buffer", "K=1 R=3 P=1", "RKP"),
    "ex2 conv1d+K tiled": _temporal("MainMemory", "K=16 R=1 P=16", "RPK") + _temporal("Buffer", "K=2 R=3 P=1", "PRK"),
    "ex3 three levels": _temporal("DRAM", "K=1 R=1 P=1", "KRP") + _GLB + _temporal("RF", "K=2 R=3 P=1", "PRK"),
    "ex3 three levels with bypass": _temporal("DRAM", "K=1 R=1 P=1", "KRP") + _GLB + _temporal("RF", "K=2 R=3 P=1", "PRK")
    + _keep("GLB", "Weights, Inputs", "Outputs") + _keep("RF", "Outputs", "Weights, Inputs"),
}


def _files(tmp_path: Path, *texts: str) -> list[Path]:
    paths = []
    for i, text in enumerate(texts):
        p = tmp_path / f"f{i}.yaml"
        p.write_text(text)
        paths.append(p)
    return paths


@pytest.mark.parametrize("case", ref._REFERENCE, ids=[c[0] for c in ref._REFERENCE])
def test_reference_cases_imported_give_the_hand_written_counts(tmp_path, case):
    name, K, levels, mapping, expected, cycles = case
    files = _files(tmp_path, _arch_v3(*levels), _problem(K), "mapping:\n" + _MAPPINGS[name])
    arch, problem, m = check(import_files(files), "test")
    got = evaluate(problem, arch, m)
    hand = evaluate(ref.conv1d(K), ref.two_or_three_levels(*levels), mapping)
    for level in levels:
        for role in ("inputs", "weights", "outputs"):
            for action in ("reads", "fills", "updates"):
                assert got.count(level, role, action) == hand.count(level, role, action), (level, role, action)
    for (level, role, action), value in expected.items():  # and the Timeloop reference figures themselves
        assert got.count(level, role, action) == value
    assert got.cycles == hand.cycles


def test_v04_node_list_with_tags_meshes_and_keep_only(tmp_path):
    """v0.4: !Container/!Component nodes; spatial meshX 4 x meshY 2 gives the buffer a fanout of
    4 x 2 MACs; keep_only narrows what a level may hold."""
    arch = """architecture:
  version: 0.4
  nodes:
  - !Container
    name: System
    attributes: {technology: "45nm", global_cycle_seconds: 1e-9}
  - !Component
    name: MainMemory
    class: DRAM
    attributes: {width: 64, datawidth: 8}
  - !Component
    name: Buffer
    class: SRAM
    attributes: {depth: 1024, width: 64, datawidth: 8}
  - !Container
    name: PE
    spatial: {meshX: 4, meshY: 2}
  - !Component
    name: Reg
    class: storage
    subclass: regfile
    attributes: {depth: 1, width: 8, datawidth: 8}
    constraints: {dataspace: {keep_only: [Weights]}}
  - !Component
    name: MAC
    class: compute
    subclass: intmac
    attributes: {datawidth: 8}
"""
    imp = import_files(_files(tmp_path, arch))
    a, _, _ = check(imp, "test")
    assert [lv.name for lv in a.levels] == ["MainMemory", "Buffer", "Reg"]
    assert (a.levels[1].fanout.x, a.levels[1].fanout.y) == (4, 2)
    assert a.levels[1].block_words == 8 and a.levels[1].capacity_words == 8192  # 1024 rows of 64/8 words
    assert a.levels[2].keeps == ("weights",)
    assert a.clock_mhz == pytest.approx(1000.0)  # 1 ns cycle
    assert a.technology_nm == 45


def test_spatial_split_and_mesh_of_a_v03_tree(tmp_path):
    """PE[0..15] under a 1-instance buffer, meshX 4: a 4 x 4 fanout; split 1 of permutation "KPR"
    puts K on X and P on Y (Timeloop issue 162's rule)."""
    arch = """architecture:
  version: 0.3
  subtree:
  - name: System
    local:
    - {name: DRAM, class: DRAM, attributes: {word-bits: 8}}
    - {name: GLB, class: SRAM, attributes: {depth: 4096, word-bits: 8}}
    subtree:
    - name: PE[0..15]
      local:
      - {name: RF, class: regfile, attributes: {depth: 64, word-bits: 8, meshX: 4}}
      - {name: MACC, class: intmac, attributes: {datawidth: 8, meshX: 4}}
"""
    mapping = ("mapping:\n" + _temporal("DRAM", "K=2 R=1 P=4", "RPK") + _temporal("GLB", "K=1 R=1 P=1", "KRP")
               + "- target: GLB\n  type: spatial\n  factors: K=4 P=4 R=1\n  permutation: KPR\n  split: 1\n"
               + _temporal("RF", "K=4 R=3 P=1", "RKP"))
    imp = import_files(_files(tmp_path, arch, _problem(32), mapping))
    a, p, m = check(imp, "test")
    assert (a.levels[1].fanout.x, a.levels[1].fanout.y) == (4, 4)
    assert dict(m.levels[1].spatial_x) == {"M": 4} and dict(m.levels[1].spatial_y) == {"P": 4}  # K is named M
    assert m.levels[0].order == ("M", "P")  # "RPK" inner -> outer: K outermost
    assert m.levels[2].order == ("M", "R")  # "RKP": R innermost
    assert p.dims == {"M": 32, "R": 3, "P": 16}


_ERT = """ERT:
  version: 0.3
  tables:
  - name: System.Chip.Buffer
    actions:
    - {name: read, arguments: {data_delta: 0, address_delta: 0}, energy: 0.5}
    - {name: read, arguments: {data_delta: 1, address_delta: 1}, energy: 2.0}
    - {name: write, energy: 2.5}
    - {name: leak, energy: 0.01}
  - name: System.Chip.MACC
    actions:
    - {name: mac_random, energy: 3.0}
ART:
  tables:
  - {name: System.Chip.Buffer, area: 1234.5}
"""


def test_ert_and_art_are_read_as_given(tmp_path):
    """ERT energies (pJ) as written: read's largest variant (2.0), write 2.5 charged for update too,
    the MAC's mac_random 3.0; the ART's area; each assumption named once in the notes."""
    imp = import_files(_files(tmp_path, _arch_v3("MainMemory", "Buffer"), _ERT))
    a, _, _ = check(imp, "test")
    buf = a.levels[1]
    assert buf.energy_pj == {"read": 2.0, "write": 2.5, "update": 2.5}
    assert buf.area_um2 == 1234.5
    assert a.compute.energy_pj == 3.0
    text = "\n".join(imp.notes.lines())
    assert "several argument variants" in text and "update charged as a write" in text and "'leak'" in text


def test_unrepresented_attributes_are_reported_once_with_a_count(tmp_path):
    arch = _arch_v3("MainMemory", "GLB", "RF").replace("block-size: 1}", "block-size: 1, n_banks: 4}")
    imp = import_files(_files(tmp_path, arch))
    lines = [line for line in imp.notes.lines() if "n_banks" in line]
    assert len(lines) == 1 and "2 places" in lines[0] and "(GLB)" in lines[0] and "(RF)" in lines[0]
    out = write(imp, tmp_path / "out.yaml", "test")
    assert out == {"arch": tmp_path / "out.yaml"}  # one kind: written where -o says
    assert "n_banks" in (tmp_path / "out.yaml").read_text().split("name:")[0]  # in the header


@pytest.mark.parametrize("text, words", [
    (_arch_v3("DRAM", "Buf").replace("  - name: System\n", "  - name: System\n    local: []\n    subtree: []\n", 0)
     .replace("version: 0.3\n  subtree:", "version: 0.4\n  nodes:\n  - !Parallel {name: P, nodes: [!Container {name: C, spatial: {meshX: 2}}]}\n  subtree_unused:"),
     ["!Parallel", "nodes[0]", "lacks"]),
    (_problem(1).replace("projection: [[[R], [P]]]", "projection: '[r + p]'"), ["expression string", "Inputs", "lacks"]),
    (_problem(1) + "mapping:\n" + _temporal("Buffer", "R=0 P=16", "RP"), ["R=0", "mapping[0]"]),
    (_problem(1) + "mapping:\n" + _temporal("Buffer", "Q=3", "RP"), ["Q is not a dimension", "mapping[0]"]),
    (_problem(1).replace("read-write: True", "read-write: False"), ["read-write"]),
])
def test_bad_or_unsupported_input_names_the_feature_and_the_place(tmp_path, text, words):
    with pytest.raises(InteropError) as e:
        import_files(_files(tmp_path, text))
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_loaders_name_the_import_command_for_other_tools_files(tmp_path):
    """A Timeloop or ZigZag file given where loopnest expects its own spec: one line naming the
    command that converts it (the converters sit above arch/workload/mapping, so the loaders do
    not convert themselves)."""
    from loopnest.arch import ArchSpecError
    from loopnest.datafile import foreign_format
    from loopnest.mapping.mapping import MappingError
    from loopnest.workload.layer_ref import LayerRefError

    arch, prob = _files(tmp_path, _arch_v3("DRAM", "Buf"), _problem(1))
    with pytest.raises(ArchSpecError, match="a Timeloop file; convert it first: loopnest import timeloop"):
        load_arch(str(arch))
    with pytest.raises(LayerRefError, match="loopnest import timeloop"):
        load_layer(str(prob))
    mp = tmp_path / "m.yaml"
    mp.write_text("mapping:\n" + _temporal("Buf", "R=3 P=16", "RP"))
    with pytest.raises(MappingError, match="loopnest import timeloop"):
        load_mapping(mp, ref.two_or_three_levels("DRAM", "Buf"))
    assert foreign_format({"memories": {}, "operational_array": {}}) == "zigzag"
    assert foreign_format({"mapping": [{"level": "DRAM"}]}) is None  # loopnest's own mapping file
    assert foreign_format({"name": "x", "levels": []}) is None and foreign_format({"layer": {}}) is None
    v04 = tmp_path / "v04.yaml"
    v04.write_text("architecture:\n  nodes:\n  - !Container\n    name: System\n")
    with pytest.raises(ArchSpecError, match="Timeloop v0.4 file"):
        load_arch(str(v04))


@pytest.mark.parametrize("case", ref._REFERENCE, ids=[c[0] for c in ref._REFERENCE])
def test_export_then_import_gives_identical_results(tmp_path, case):
    name, K, levels, mapping, _, _ = case
    arch, problem = ref.two_or_three_levels(*levels), ref.conv1d(K)
    path = write_timeloop(problem, arch, mapping, tmp_path / "tl.yaml")
    imp = import_files([path])
    back = parse_mapping(imp.mapping, arch)
    layer = parse_layer_spec({"layer": {**imp.layer["layer"], "bits": 8}})
    a, b = evaluate(problem, arch, mapping).to_dict(), evaluate(layer, arch, back).to_dict()
    assert a["levels"] == b["levels"] and a["energy_pj"] == b["energy_pj"] and a["cycles"] == b["cycles"]


_RS = """mapping:
  - {level: DRAM, temporal: {P: 4}, order: [P]}
  - level: GlobalBuffer
    temporal: {M: 2, C: 8, P: 2, Q: 56}
    order: [M, C, P, Q]
    keep: [outputs]
    spatial: {x: {M: 2, P: 7}, y: {C: 2, R: 3}}
  - {level: RF, temporal: {M: 16, C: 4, S: 3}, order: [M, C, S]}
"""


def test_export_round_trip_of_a_spatial_conv_mapping(tmp_path):
    """A row-stationary mapping of a ResNet-50 conv on eyeriss (spatial X and Y, bypass): exported,
    re-imported, identical results."""
    arch = load_arch("eyeriss")
    problem = load_layer("resnet50:layer1.0.conv2")
    (tmp_path / "rs.yaml").write_text(_RS)
    mapping = load_mapping(tmp_path / "rs.yaml", arch)
    path = write_timeloop(problem, arch, mapping, tmp_path / "tl.yaml")
    data = yaml.safe_load(path.read_text())
    assert any(e["type"] == "spatial" and "split" in e for e in data["mapping"])
    imp = import_files([path])
    back = parse_mapping(imp.mapping, arch)
    layer = parse_layer_spec({"layer": {**imp.layer["layer"], "bits": 16}})
    a, b = evaluate(problem, arch, mapping).to_dict(), evaluate(layer, arch, back).to_dict()
    assert a["levels"] == b["levels"] and a["energy_pj"] == b["energy_pj"] and a["cycles"] == b["cycles"]


def test_export_folds_a_dimension_on_both_spatial_axes_onto_one(tmp_path):
    """The shipped example unrolls M on X (2, beside P 7) and Y (2, beside C 2, R 3) of eyeriss's
    14 x 12 fanout; a Timeloop spatial level holds one factor per dimension (issue 162). Whole
    dimensions M 4, P 7, C 2, R 3 fit 14 x 12 only as X {P, C} = 14, Y {M, R} = 12 (hand-checked:
    the product 168 leaves no other split), three moves. On a 28 x 12 fanout X {M, P} = 28 and
    Y {C, R} = 6 move M only. Re-imported, both give identical results."""
    arch = load_arch("eyeriss")
    problem = load_layer("resnet50:layer1.0.conv2")
    mapping = load_mapping("examples/resnet50_conv2_rs.yaml", arch)
    path = write_timeloop(problem, arch, mapping, tmp_path / "tl14.yaml")
    back = parse_mapping(import_files([path]).mapping, arch)
    assert dict(back.levels[1].spatial_x) == {"C": 2, "P": 7} and dict(back.levels[1].spatial_y) == {"M": 4, "R": 3}
    a, b = evaluate(problem, arch, mapping).to_dict(), evaluate(problem, arch, back).to_dict()
    assert a["levels"] == b["levels"] and a["energy_pj"] == b["energy_pj"] and a["cycles"] == b["cycles"]
    wide = arch.model_copy(update={"levels": tuple(
        lv.model_copy(update={"fanout": lv.fanout.model_copy(update={"x": 28})}) if lv.name == "GlobalBuffer" else lv
        for lv in arch.levels)})
    path = write_timeloop(problem, wide, mapping, tmp_path / "tl.yaml")
    assert "GlobalBuffer: M" in path.read_text().splitlines()[1]
    spatial = next(e for e in yaml.safe_load(path.read_text())["mapping"] if e["type"] == "spatial")
    assert spatial["split"] == 2 and spatial["permutation"].startswith("MP") and "M=4" in spatial["factors"]
    back = parse_mapping(import_files([path]).mapping, wide)
    assert dict(back.levels[1].spatial_x) == {"M": 4, "P": 7} and dict(back.levels[1].spatial_y) == {"C": 2, "R": 3}
    a, b = evaluate(problem, wide, mapping).to_dict(), evaluate(problem, wide, back).to_dict()
    assert a["levels"] == b["levels"] and a["energy_pj"] == b["energy_pj"] and a["cycles"] == b["cycles"]


def test_cli_import_writes_files_that_loopnest_model_evaluates(tmp_path):
    from typer.testing import CliRunner

    from loopnest.cli import app

    files = _files(tmp_path, _arch_v3("DRAM", "GLB", "RF"), _problem(32),
                   "mapping:\n" + _MAPPINGS["ex3 three levels"])
    out = CliRunner().invoke(app, ["import", "timeloop", *map(str, files), "-o", str(tmp_path / "c.yaml")])
    assert out.exit_code == 0, out.output
    names = [str(tmp_path / f"c.{k}.yaml") for k in ("arch", "layer", "mapping")]
    res = CliRunner().invoke(app, ["model", "--arch", names[0], "--layer", names[1], "--mapping", names[2], "--json"])
    assert res.exit_code == 0, res.output
    data = yaml.safe_load(res.stdout)
    assert data["schema_version"] == 1
    rf = next(lv for lv in data["levels"] if lv["name"] == "RF")
    assert rf["counts_words"]["inputs"]["reads"] == 1536  # Timeloop's ex3 reference: RF inputs reads


def test_cli_import_error_is_one_line(tmp_path):
    from cli_helpers import run_cli

    bad = _files(tmp_path, _problem(1).replace("[[[R], [P]]]", "'[r + p]'"))
    r = run_cli("import", "timeloop", str(bad[0]), "-o", str(tmp_path / "x.yaml"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "expression string" in r.stderr and "f0.yaml" in r.stderr


def test_einsum_layer_spec_errors_are_one_line(tmp_path):
    from loopnest.workload.layer_ref import LayerRefError

    p = tmp_path / "e.yaml"
    p.write_text("layer: {type: einsum, dims: {K: 4}, tensors: [{name: A, role: weights, indices: [{K: 1}]}, "
                 "{name: B, role: weights, indices: [{K: 1}]}, {name: C, role: outputs, indices: [{K: 1}]}]}\n")
    with pytest.raises(LayerRefError, match=r"e.yaml: layer: .*one tensor per role"):
        load_layer(str(p))
    p.write_text("layer: {type: einsum, dims: {K: 4}, tensors: [{name: A, role: weights, indices: [{Q: 1}]}, "
                 "{name: B, role: inputs, indices: [{K: 1}]}, {name: C, role: outputs, indices: [{K: 1}]}]}\n")
    with pytest.raises(LayerRefError, match=r"unknown dimensions Q$"):
        load_layer(str(p))


def test_v04_attributes_may_name_variables_and_attributes_in_scope(tmp_path):
    """variables: {glb_rows: 512, bits: 8}; depth: glb_rows * 2 -> 1024 rows; datawidth: bits;
    width: datawidth * 8 names the component's own attribute; an unknown name is one error."""
    arch = """variables:
  version: 0.4
  glb_rows: 512
  bits: 8
architecture:
  version: 0.4
  nodes:
  - !Container {name: System, attributes: {technology: 45nm}}
  - !Component {name: DRAM, class: DRAM, attributes: {datawidth: bits, width: 64}}
  - !Component {name: GLB, class: SRAM, attributes: {depth: glb_rows * 2, datawidth: bits, width: datawidth * 8}}
  - !Component {name: MAC, class: intmac, attributes: {datawidth: bits}}
"""
    a, _, _ = check(import_files(_files(tmp_path, arch)), "test")
    assert (a.levels[1].capacity_words, a.levels[1].block_words, a.levels[1].word_bits) == (1024 * 8, 8, 8)
    with pytest.raises(InteropError, match="names 'glb_cols'"):
        import_files(_files(tmp_path, arch.replace("glb_rows * 2", "glb_cols * 2")))


def test_eyeriss_like_v03_tree_gives_the_row_and_column_fanouts(tmp_path):
    """Timeloop's eyeriss-like tree: a 1-instance GLB, DummyBuffer[0..13] meshX 14 and PE[0..167]
    with spads and MAC at meshX 14: GLB -> 14 dummies along X (14 x 1), each dummy -> 12 PEs
    along Y (168 / 14 = 12, meshX ratio 14 / 14 = 1): 1 x 12 (the meaning of meshX in NVlabs/timeloop issue 52)."""
    arch = """architecture:
  version: 0.3
  subtree:
  - name: system
    local:
    - {name: DRAM, class: DRAM, attributes: {width: 64, block-size: 4, word-bits: 16}}
    subtree:
    - name: eyeriss
      attributes: {technology: 65nm}
      local:
      - {name: shared_glb, class: smartbuffer_SRAM, attributes: {memory_depth: 16384, memory_width: 64, n_banks: 32, block-size: 4, word-bits: 16}}
      - {name: 'DummyBuffer[0..13]', class: regfile, attributes: {depth: 16, width: 16, word-bits: 16, block-size: 1, meshX: 14}}
      subtree:
      - name: PE[0..167]
        local:
        - {name: ifmap_spad, class: smartbuffer_RF, attributes: {memory_depth: 12, memory_width: 16, block-size: 1, word-bits: 16, meshX: 14}}
        - {name: weights_spad, class: smartbuffer_RF, attributes: {memory_depth: 192, memory_width: 16, block-size: 1, word-bits: 16, meshX: 14}}
        - {name: psum_spad, class: smartbuffer_RF, attributes: {memory_depth: 16, memory_width: 16, block-size: 1, word-bits: 16, meshX: 14}}
        - {name: mac, class: intmac, attributes: {datawidth: 16, meshX: 14}}
"""
    imp = import_files(_files(tmp_path, arch))
    a, _, _ = check(imp, "test")
    fan = {lv.name: (lv.fanout.x, lv.fanout.y) for lv in a.levels if lv.fanout is not None}
    assert fan == {"shared_glb": (14, 1), "DummyBuffer": (1, 12)} and a.pes == 168
    assert [lv.cls for lv in a.levels] == ["dram", "sram", "regfile", "regfile", "regfile", "regfile"]
    assert a.levels[1].capacity_words == 16384 * 4 and a.technology_nm == 65
    assert any("n_banks" in line and "1 place" in line for line in imp.notes.lines())


def test_v03_constraints_bypass_narrows_what_a_level_keeps(tmp_path):
    cons = """architecture_constraints:
  targets:
  - {target: RF, type: bypass, bypass: [Inputs, Outputs], keep: [Weights]}
  - {target: GLB, type: temporal, factors: K=1}
"""
    imp = import_files(_files(tmp_path, _arch_v3("DRAM", "GLB", "RF"), _problem(32), cons))
    a, _, _ = check(imp, "test")
    assert a.levels[2].keeps == ("weights",)
    text = "\n".join(imp.notes.lines())
    assert "temporal constraint" in text and "constraint keep" in text


def test_cli_export_with_the_eyeriss_architecture_then_import(tmp_path):
    """`export timeloop` writes eyeriss itself too: the RF's three partitions as three Timeloop
    components (RF_inputs, RF_weights, RF_outputs, the loops at the last), the resolved energies as
    an ERT. Imported back and evaluated: each tensor's RF counts are the partition's, the storage and
    MAC energies and the cycles are the original's; only the network energy is not carried (an ERT has
    no place for it: the header names it)."""
    from typer.testing import CliRunner

    from loopnest.cli import app

    (tmp_path / "rs.yaml").write_text(_RS)
    out = tmp_path / "tl.yaml"
    r = CliRunner().invoke(app, ["export", "timeloop", "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2",
                                 "--mapping", str(tmp_path / "rs.yaml"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    data = yaml.safe_load(text)
    assert set(data) == {"architecture", "ERT", "ART", "architecture_constraints", "problem", "mapping"}
    assert "Network energies are not in the ERT" in text.splitlines()[1]
    temporal = {e["target"]: e for e in data["mapping"] if e["type"] == "temporal"}
    # outer -> inner: M, C, P, Q, then the factor-1 dimensions N, G, R, S in problem order; reversed
    assert temporal["GlobalBuffer"]["permutation"] == "SRGNQPCM"
    assert temporal["RF_inputs"]["factors"].split() == [f"{d}=1" for d in "NGMCPQRS"]
    imp = import_files([out])
    arch, problem, mapping = check(imp, "test")
    assert [lv.name for lv in arch.levels] == ["DRAM", "GlobalBuffer", "RF_inputs", "RF_weights", "RF_outputs"]
    assert [lv.keeps for lv in arch.levels[2:]] == [("inputs",), ("weights",), ("outputs",)]
    got = evaluate(problem, arch, mapping)
    eyeriss = load_arch("eyeriss")
    (tmp_path / "rs.yaml").write_text(_RS)
    ref_result = evaluate(load_layer("resnet50:layer1.0.conv2"), eyeriss, load_mapping(tmp_path / "rs.yaml", eyeriss))
    for role in ("inputs", "weights", "outputs"):
        for action in ("reads", "fills", "updates"):
            assert got.count(f"RF_{role}", role, action) == ref_result.count("RF", role, action)
            assert got.count("GlobalBuffer", role, action) == ref_result.count("GlobalBuffer", role, action)
    a, b = ref_result.to_dict(), got.to_dict()

    def storage_and_mac(d):
        return sum(v for k, v in d["energy_by_level_pj"].items() if not k.endswith(".network"))

    assert storage_and_mac(b) == pytest.approx(storage_and_mac(a), rel=1e-12)
    assert b["cycles"] == a["cycles"]


def test_cli_export_takes_the_table_its_error_names(tmp_path):
    """A normalized table (eyeriss65: 1 = one 16-bit MAC) cannot fill an ERT in pJ: the error names
    --table horowitz45, and export timeloop and export zigzag both take it (before, the message
    pointed at a --table option export did not have)."""
    from typer.testing import CliRunner

    from loopnest.cli import app

    (tmp_path / "rs.yaml").write_text(_RS)
    for tool, out in (("timeloop", "tl.yaml"), ("zigzag", "zz.yaml")):
        args = ["export", tool, "--arch", "eyeriss", "--layer", "resnet50:layer1.0.conv2",
                "--mapping", str(tmp_path / "rs.yaml"), "-o", str(tmp_path / out)]
        bad = CliRunner().invoke(app, args + ["--table", "eyeriss65"])
        assert bad.exit_code != 0 and "--table horowitz45" in bad.output and "Traceback" not in bad.output, bad.output
        ok = CliRunner().invoke(app, args + ["--table", "horowitz45"])
        assert ok.exit_code == 0, ok.output


def test_evaluate_export_timeloop_writes_each_layer_that_reimports_to_its_row(tmp_path):
    """evaluate --export-timeloop on a 16 x 1 array (every spatial factor on X): each layer's file,
    imported back and evaluated, gives the energy and cycles of its row in evaluate --json."""
    import json

    from typer.testing import CliRunner

    from loopnest.cli import app
    from loopnest.workload import load_network

    spec = tmp_path / "row.yaml"
    spec.write_text("name: row16\nenergy_table: horowitz45\nlevels:\n"
                    "  - {name: DRAM, class: dram}\n"
                    "  - {name: GLB, capacity_words: 65536, fanout: {x: 16, y: 1}}\n"
                    "  - {name: RF, class: regfile, capacity_words: 64}\n")
    out = tmp_path / "tl"
    r = CliRunner().invoke(app, ["evaluate", "lenet5", "--arch", str(spec), "--jobs", "1", "--json",
                                 "--export-timeloop", str(out)])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.stdout)["layers"]}
    assert sorted(p.stem for p in out.iterdir()) == sorted(rows)
    arch = load_arch(str(spec))
    problems = {p.name: p for p in load_network("lenet5").layers}
    for name, row in rows.items():
        imp = import_files([out / f"{name}.yaml"])
        layer = parse_layer_spec({"layer": {**imp.layer["layer"], "bits": problems[name].tensor("inputs").bits}})
        got = evaluate(layer, arch, parse_mapping(imp.mapping, arch))
        assert got.energy_pj == pytest.approx(row["energy_pj"], rel=1e-12) and got.cycles == row["cycles"], name


# The facts of Timeloop's v0.4 eyeriss_like (timeloop-accelergy-exercises, workspace/example_designs/
# example_designs/eyeriss_like/arch.yaml), written here: a GLB keeping Inputs and Outputs, a column
# container meshX 14, a PE container meshY 12, and the three scratchpads side by side in !Parallel,
# each keeping its data-space (ifmap 12 x 16 bits of 8-bit data, weights 192 x 16 bits, psum
# 16 x 16 bits of 16-bit data).
EYERISS_LIKE_V04 = """architecture:
  version: 0.4
  nodes:
  - !Container {name: system}
  - !Component {name: DRAM, class: DRAM, attributes: {type: LPDDR4, width: 64, datawidth: 8}}
  - !Container {name: eyeriss, attributes: {technology: 32nm}}
  - !Component
    name: shared_glb
    class: smartbuffer_SRAM
    attributes: {depth: 16384, width: 64, n_banks: 32, datawidth: 8, read_bandwidth: 16, write_bandwidth: 16}
    constraints: {dataspace: {keep: [Inputs, Outputs], bypass: [Weights]}}
  - !Container
    name: PE_column
    spatial: {meshX: 14}
    constraints: {spatial: {permutation: [N, C, P, R, S, Q, M], factors: [N=1, C=1, P=1, R=1, S=1], split: 7}}
  - !Container
    name: PE
    spatial: {meshY: 12}
  - !Parallel
    nodes:
    - !Component
      name: ifmap_spad
      class: smartbuffer_RF
      attributes: {depth: 12, width: 16, datawidth: 8, read_bandwidth: 2, write_bandwidth: 2}
      constraints: {dataspace: {keep: [Inputs]}, temporal: {factors: [N=1, M=1]}}
    - !Component
      name: weights_spad
      class: smartbuffer_RF
      attributes: {depth: 192, width: 16, datawidth: 8, read_bandwidth: 2, write_bandwidth: 2}
      constraints: {dataspace: {keep: [Weights]}}
    - !Component
      name: psum_spad
      class: smartbuffer_RF
      attributes: {depth: 16, width: 16, update_fifo_depth: 2, datawidth: 16, read_bandwidth: 2, write_bandwidth: 2}
      constraints: {dataspace: {keep: [Outputs]}}
  - !Component {name: mac, class: intmac, attributes: {multiplier_width: 8, adder_width: 16}}
"""


def test_v04_eyeriss_like_parallel_scratchpads_become_one_partitioned_level(tmp_path):
    """The !Parallel spads are one level with a partition each, as loopnest's eyeriss preset writes
    its RF: the widest word (16 bits) and each partition the spad's bits: ifmap 12 rows x 16 bits =
    12 words, weights 192 x 16 = 192, psum 16 x 16 = 16. GLB: 16384 rows of 64 / 8 = 8 words =
    131,072 words, keeping Inputs and Outputs; fanout 14 (meshX) x 12 (meshY) = 168 PEs."""
    imp = import_files(_files(tmp_path, EYERISS_LIKE_V04))
    a, _, _ = check(imp, "test")
    assert [lv.name for lv in a.levels] == ["DRAM", "shared_glb", "ifmap_spad+weights_spad+psum_spad"]
    dram, glb, spads = a.levels
    assert glb.capacity_words == 131072 and glb.keeps == ("inputs", "outputs") and glb.read_bandwidth == 16
    assert (glb.fanout.x, glb.fanout.y) == (14, 12) and a.pes == 168 and a.technology_nm == 32
    assert spads.partitions == {"inputs": 12, "weights": 192, "outputs": 16} and spads.word_bits == 16
    assert spads.cls == "regfile" and spads.read_bandwidth == 2
    assert (a.compute.operand_bits, a.compute.accumulator_bits) == (8, 16)  # multiplier_width, adder_width
    notes = "\n".join(imp.notes.lines())
    assert "different word widths (8, 8, 16 bits)" in notes and "'update_fifo_depth'" in notes
    assert "'n_banks'" in notes and "container constraints" in notes


def test_imported_mac_is_priced_at_the_layers_widths(tmp_path):
    """The eyeriss_like MAC as an 8- or a 16-bit multiplier (no ERT: the energy table's MAC): a
    16-bit layer costs the same pJ/MAC on both, by design (docs/model.md, "Precision": the MAC is
    the table's MAC at the layer's widths; `evaluate` warns that the 8-bit design multiplies 16-bit
    values); the 8-bit layer costs (0.2 + 0.05) / (0.787 + 0.05) of it on both (Horowitz 45 nm:
    int8 multiply 0.2 pJ, 16-bit add 0.05 pJ; a 16-bit multiply 0.2 x sqrt(3.1 / 0.2) = 0.787 pJ
    on the power law between the 8- and 32-bit points). Checked after a report that changing the
    imported MAC from 16 to 8 bits left the pJ/MAC of 16-bit AlexNet unchanged: that is this rule."""
    from loopnest.model.precision import mac_energy_pj
    from loopnest.workload.precision import Precision

    layer16 = load_layer("alexnet:conv2")
    layer8 = Precision.parse("weights=8,inputs=8,outputs=8,accumulator=16").apply(layer16)
    got = {}
    for bits in (8, 16):
        f = tmp_path / f"mac{bits}.yaml"
        f.write_text(EYERISS_LIKE_V04.replace("multiplier_width: 8", f"multiplier_width: {bits}"))
        a, _, _ = check(import_files([f]), "test")
        assert a.compute.operand_bits == bits
        got[bits] = (mac_energy_pj(layer16, a), mac_energy_pj(layer8, a))
    assert got[8][0] == pytest.approx(got[16][0], rel=1e-12) and got[8][1] == pytest.approx(got[16][1], rel=1e-12)
    assert got[16][1] / got[16][0] == pytest.approx(0.25 / (0.2 * (3.1 / 0.2) ** 0.5 + 0.05), rel=1e-9)


def test_v04_parallel_with_a_spad_keeping_everything_is_refused(tmp_path):
    bad = EYERISS_LIKE_V04.replace("constraints: {dataspace: {keep: [Weights]}}", "constraints: {}")
    with pytest.raises(InteropError, match=r"weights_spad\)\.constraints\.dataspace: a component inside "
                                           r"!Parallel must keep one data-space"):
        import_files(_files(tmp_path, bad))


def test_eyeriss_like_glb_input_reads_are_timeloops_without_window_union(tmp_path):
    """Timeloop's eyeriss_like default problem and mapping (timeloop-accelergy-exercises,
    example_designs/eyeriss_like/ref_outputs/default_problem: timeloop-mapper.map.txt and stats.txt):
    a 3 x 3 stride-2 conv, C 3, M 32, 112 x 112 outputs, on EYERISS_LIKE_V04. The GLB's fanout holds
    Q 14 on X and C 3, S 3 on Y: per GLB step the 42 (q, s) PEs of a channel need input columns
    2q + s, 29 distinct (loopnest's union tile: 3 rows x 29 x 3 = 261 a step, 3,584 steps: 935,424)
    while Timeloop reads each PE's window whole (3 x 42 x 3 = 378 a step: 1,354,752, its stats).
    With ``window_union: false`` every count listed is Timeloop's but the GLB's input fills (DRAM's
    reads): 8 P steps x 3 channels x 29 rows x (113 + 112) columns = 156,600, where Timeloop
    counts 157,296, the 113-column tile of the second Q step whole (its 1-column overlap with the
    first is not credited): left as a documented difference."""
    from loopnest.mapping.mapping import LevelMapping, Mapping
    from loopnest.workload.layers import conv2d

    a, _, _ = check(import_files(_files(tmp_path, EYERISS_LIKE_V04)), "test")
    layer = conv2d("default", C=3, M=32, H=225, W=225, R=3, stride=2)
    assert (layer.dims["P"], layer.dims["Q"]) == (112, 112)
    m = Mapping((LevelMapping({"P": 8, "Q": 2, "M": 4}, ("P", "Q", "M")),
                 LevelMapping({"P": 14, "Q": 4}, ("P", "Q"), {"Q": 14}, {"C": 3, "S": 3}),
                 LevelMapping({"R": 3, "M": 8}, ("R", "M"))))
    assert evaluate(layer, a, m).count("shared_glb", "inputs", "reads") == 935_424
    glb = a.levels[1]
    apart = a.model_copy(update={"levels": (a.levels[0], glb.model_copy(update={"fanout": glb.fanout.model_copy(
        update={"window_union": False})}), a.levels[2])})
    r = evaluate(layer, apart, m)
    timeloop = {("shared_glb", "inputs", "reads"): 1_354_752, ("DRAM", "weights", "reads"): 13_824,
                ("DRAM", "outputs", "updates"): 401_408, ("shared_glb", "outputs", "updates"): 401_408}
    assert {k: r.count(*k) for k in timeloop} == timeloop
    assert r.count("DRAM", "inputs", "reads") == r.count("shared_glb", "inputs", "fills") == 8 * 3 * 29 * (113 + 112)
    assert 157_296 == 8 * 3 * 29 * (113 + 113)  # Timeloop's, both Q tiles whole
