"""ZigZag and SCALE-Sim import, with small inputs written here in those tools' formats (ZigZag:
zigzag-dse 3.x accelerator YAML with ports and workload YAML with equation and
dimension_relations; SCALE-Sim v2: scale.cfg [architecture_presets], conv and GEMM_mnk topology
CSVs). The ZigZag accelerator below is the tpu_like core of zigzag-dse 3.9.1, whose numbers
benchmarks/peers/zigzag_tpu_like.yaml converted by hand; the importer must give that conversion."""

import pytest

from loopnest.arch import load_arch
from loopnest.interop import InteropError
from loopnest.interop import scalesim, zigzag
from loopnest.interop.files import check, write
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate

_PORT = "{{name: {n}, type: {t}, bandwidth_min: {lo}, bandwidth_max: {hi}, allocation: [{a}]}}"


def _port(n, t, lo, hi, a="O, tl"):
    return _PORT.format(n=n, t=t, lo=lo, hi=hi, a=a)


TPU_LIKE = f"""name: tpu_like
memories:
  rf_128B:
    size: 1024
    r_cost: 0.095
    w_cost: 0.095
    area: 0
    latency: 1
    operands: [I2]
    ports: [{_port('r_port_1', 'read', 8, 8)}, {_port('w_port_1', 'write', 8, 8)}]
    served_dimensions: []
  rf_2B:
    size: 16
    r_cost: 0.021
    w_cost: 0.021
    area: 0
    latency: 1
    operands: [O]
    ports: [{_port('r_port_1', 'read', 16, 16)}, {_port('r_port_2', 'read', 16, 16)},
            {_port('w_port_1', 'write', 16, 16)}, {_port('w_port_2', 'write', 16, 16)}]
    served_dimensions: []
  sram_2MB:
    size: 16777216
    r_cost: 416.16
    w_cost: 378.4
    area: 0
    latency: 1
    operands: [I1, O]
    ports: [{_port('r_port_1', 'read', 64, 2048)}, {_port('w_port_1', 'write', 64, 2048)}]
    served_dimensions: [D1, D2]
  dram:
    size: 10000000000
    r_cost: 700
    w_cost: 750
    area: 0
    latency: 1
    operands: [I1, I2, O]
    ports: [{_port('rw_port_1', 'read_write', 64, 64)}]
    served_dimensions: [D1, D2]
operational_array:
  unit_energy: 0.04
  unit_area: 0
  dimensions: [D1, D2]
  sizes: [32, 32]
"""

CONV = """- id: 0
  name: conv1
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix=2*ox+1*fx, iy=2*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, 16, 4, 7, 7, 3, 3]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
  operand_source: {I: 0}
- id: 1
  operator_type: Add
  equation: O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]
  loop_dims: [B, G, OY, OX]
  loop_sizes: [1, 16, 7, 7]
  operand_precision: {W: 8, I: 8, O: 16, O_final: 8}
"""


def _file(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_zigzag_tpu_like_imports_as_the_hand_conversion(tmp_path):
    """Same levels, order, capacities, blocks, bandwidths, keeps, energies, fanout and MAC energy as
    benchmarks/peers/zigzag_tpu_like.yaml (converted by hand from the same ZigZag file)."""
    imp = zigzag.import_files([_file(tmp_path, "hw.yaml", TPU_LIKE)], bits=8)
    got, _, _ = check(imp, "test")
    hand = load_arch("benchmarks/peers/zigzag_tpu_like.yaml")
    assert [lv.name for lv in got.levels] == [lv.name for lv in hand.levels]
    for g, h in zip(got.levels, hand.levels):
        for field in ("capacity_words", "word_bits", "block_words", "read_bandwidth", "write_bandwidth", "keeps",
                      "energy_pj"):
            assert getattr(g, field) == getattr(h, field), (g.name, field)
        assert (g.fanout is None) == (h.fanout is None)
        if g.fanout is not None:
            assert (g.fanout.x, g.fanout.y, g.fanout.energy_pj, g.fanout.multicast, g.fanout.reduction) == (
                h.fanout.x, h.fanout.y, h.fanout.energy_pj, h.fanout.multicast, h.fanout.reduction)
    assert got.compute.energy_pj == hand.compute.energy_pj == 0.04


def test_zigzag_workload_conv_becomes_the_einsum_of_its_equation(tmp_path):
    """ix = 2*ox + 1*fx: the input index {Q: 2, S: 1}; the Add layer is reported and left out;
    MACs = 1*16*4*7*7*3*3 = 28,224."""
    imp = zigzag.import_files([_file(tmp_path, "hw.yaml", TPU_LIKE), _file(tmp_path, "wl.yaml", CONV)])
    arch, problem, _ = check(imp, "test")
    assert problem.macs == 16 * 4 * 7 * 7 * 3 * 3
    assert problem.tensor("inputs").indices[2:] == ({"P": 2, "R": 1}, {"Q": 2, "S": 1})
    assert problem.tensor("weights").static and problem.tensor("inputs").bits == 8
    assert any("operator_type Add" in line for line in imp.notes.lines())
    assert arch.levels[0].word_bits == 8  # from the workload's operand precision
    # evaluated: everything from DRAM into the per-MAC files, all loops at DRAM (hand count: each
    # weight read from DRAM once per output position it is used at = MACs / 1 reuse in the RF)
    dims = problem.dims
    m = Mapping((LevelMapping(dict(dims), tuple(dims)), LevelMapping(), LevelMapping(), LevelMapping()))
    r = evaluate(problem, arch, m)
    assert r.count("dram", "weights", "reads") == problem.macs


def test_zigzag_partial_served_dimensions_make_split_fanouts(tmp_path):
    """A memory served over D2 only sits between the D1 fanout (X, above it) and the D2 fanout (Y, below)."""
    hw = TPU_LIKE.replace("served_dimensions: []\n  rf_2B", "served_dimensions: [D2]\n  rf_2B", 1)
    arch, _, _ = check(zigzag.import_files([_file(tmp_path, "hw.yaml", hw)], bits=8), "test")
    assert [lv.name for lv in arch.levels] == ["dram", "sram_2MB", "rf_128B", "rf_2B"]
    assert (arch.levels[1].fanout.x, arch.levels[1].fanout.y) == (32, 1)
    assert (arch.levels[2].fanout.x, arch.levels[2].fanout.y) == (1, 32)
    assert arch.pes == 1024


def test_zigzag_errors_name_the_place(tmp_path):
    bad = TPU_LIKE.replace("operands: [I2]", "operands: [W]")
    with pytest.raises(InteropError, match=r"memories.rf_128B.operands"):
        zigzag.import_files([_file(tmp_path, "hw.yaml", bad)])
    with pytest.raises(InteropError, match=r"m.onnx: an ONNX model: loopnest reads ONNX itself"):
        zigzag.import_files([str(tmp_path / "m.onnx")])
    three = TPU_LIKE.replace("dimensions: [D1, D2]\n  sizes: [32, 32]", "dimensions: [D1, D2, D3]\n  sizes: [4, 4, 4]")
    with pytest.raises(InteropError, match="3 array dimensions .* lacks"):
        zigzag.import_files([_file(tmp_path, "hw.yaml", three)])


CFG = """[general]
run_name = tiny_os

[architecture_presets]
ArrayHeight:    8
ArrayWidth:     4
IfmapSramSzkB:   2
FilterSramSzkB:  1
OfmapSramSzkB:   1
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : os
MemoryBanks:   1

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: USER
"""

CONV_CSV = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
            "Conv1     ,16         ,16        ,3           ,3          ,4       ,8        ,1      ,\n"
            "Conv2     ,15         ,15        ,3           ,3          ,8       ,8        ,2      ,\n")
GEMM_CSV = "Layer Name, M, N, K,\nTest 1, 64, 32, 48,\n"


def test_scalesim_config_and_topologies(tmp_path):
    """8 x 4 array (fanout x = ArrayWidth 4, y = ArrayHeight 8), SRAM partitions kB x 1024 one-byte
    words, double-buffered; DRAM 10 words/cycle. Conv: output (H - R) / stride + 1: 14 x 14 and
    (15 - 3) / 2 + 1 = 7; GEMM M x K times K x N = 64 * 48 * 32 MACs."""
    files = [_file(tmp_path, "s.cfg", CFG), _file(tmp_path, "c.csv", CONV_CSV), _file(tmp_path, "g.csv", GEMM_CSV)]
    imp = scalesim.import_files(files)
    arch, first, _ = check(imp, "test")
    sram = arch.levels[1]
    assert (sram.fanout.x, sram.fanout.y) == (4, 8) and arch.pes == 32
    assert sram.partitions == {"inputs": 2048, "weights": 1024, "outputs": 1024} and sram.double_buffered
    assert arch.levels[0].read_bandwidth == 10 and arch.dataflow == "os"
    assert [lay["layer"]["name"] for lay in imp.layers] == ["Conv1", "Conv2", "Test 1"]
    from loopnest.workload.layer_ref import parse_layer_spec

    p1, p2, g = (parse_layer_spec(lay) for lay in imp.layers)
    assert (p1.dims["P"], p1.dims["Q"], p1.macs) == (14, 14, 14 * 14 * 3 * 3 * 4 * 8)
    assert (p2.dims["P"], p2.dims["Q"]) == (7, 7)
    assert g.macs == 64 * 48 * 32
    lines = "\n".join(imp.notes.lines())
    assert "'IfmapOffset'" in lines and "'MemoryBanks'" in lines and "[sparsity]" in lines
    paths = write(imp, tmp_path / "o.yaml", "test")
    assert sorted(p.name for p in paths.values()) == ["o.Conv1.layer.yaml", "o.Conv2.layer.yaml",
                                                      "o.Test_1.layer.yaml", "o.arch.yaml"]


@pytest.mark.parametrize("csv_text, where", [
    (CONV_CSV.replace(",4       ,8", ",four    ,8", 1), "line 2: Channels 'four'"),
    (CONV_CSV + "Conv3, 8, 8, 3\n", "line 4: 4 fields"),
    (CONV_CSV.replace("Conv2     ,15 ", "Conv2     ,2 ", 1), "line 3: filter 3x3 larger"),
    ("Layer, A, B\nx, 1, 2\n", "line 1: header"),
])
def test_scalesim_malformed_csv_names_the_line(tmp_path, csv_text, where):
    with pytest.raises(InteropError) as e:
        scalesim.import_files([_file(tmp_path, "t.csv", csv_text)])
    assert "t.csv: " + where in str(e.value)


# SCALE-Sim v2's shipped example (scalesim-project/scale-sim-v2: configs/scale.cfg, topologies/
# conv_nets/alexnet.csv, topologies/GEMM_mnk/gnmt.csv), written here from their facts: a 32 x 32 OS
# array with 64 kB SRAMs, Bandwidth 64, bank/layout keys and a [sparsity] section; AlexNet's conv
# layers in the conv form; GNMT's GEMMs under the header "Layer,M,N,K".
SHIPPED_CFG = """[general]
run_name = scale_example_run_32x32_os

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:   64
FilterSramSzkB:  64
OfmapSramSzkB:   64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 64
Dataflow : os
OnChipMemoryBanks:   1
OnChipMemoryBankPorts:   2
IfmapCustomLayout: True
MemoryBanks: 1

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: USER 
"""
ALEXNET_CSV = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
               "Conv1     ,224         ,224        ,11           ,11          ,3       ,96        ,4      ,\n"
               "Conv2     ,27         ,27        ,5            ,5           ,96      ,256       ,1      ,\n")
GNMT_CSV = "Layer,M,N,K\n1,2048,4096,32\n4,32,2048,4096\n"


def test_scalesim_shipped_example_imports_with_scalesims_output_sizes(tmp_path):
    """SCALE-Sim's ofmap size is ceil((H - R + stride) / stride) (scalesim topology_utils): Conv1
    224, 11, stride 4 -> ceil(217 / 4) = 55 (its num_mac 55*55*11*11*3*96 = 105,415,200; the last
    window reads 54*4 + 11 - 224 = 3 rows past the IFMAP: bottom/right padding); Conv2 27, 5, 1 ->
    23. GEMM 2048 x 32 times 32 x 4096: 2048*4096*32 MACs. The array 32 x 32, SRAMs 64 * 1024 words."""
    files = [_file(tmp_path, "scale.cfg", SHIPPED_CFG), _file(tmp_path, "alexnet.csv", ALEXNET_CSV),
             _file(tmp_path, "gnmt.csv", GNMT_CSV)]
    imp = scalesim.import_files(files)
    arch, _, _ = check(imp, "test")
    from loopnest.workload.layer_ref import parse_layer_spec

    conv1, conv2, g1, g4 = (parse_layer_spec(lay) for lay in imp.layers)
    assert (conv1.dims["P"], conv1.dims["Q"], conv1.macs) == (55, 55, 105_415_200)
    assert conv1.attrs["padding"] == (0, 0, 3, 3)
    assert (conv2.dims["P"], conv2.macs) == (23, 23 * 23 * 5 * 5 * 96 * 256)
    assert g1.macs == 2048 * 4096 * 32 and g4.dims["P"] == 32 and g4.dims["C"] == 4096
    sram = arch.levels[1]
    assert (sram.fanout.x, sram.fanout.y) == (32, 32) and arch.dataflow == "os"
    assert sram.partitions == {"inputs": 65536, "weights": 65536, "outputs": 65536}
    assert arch.levels[0].read_bandwidth == 64
    lines = "\n".join(imp.notes.lines())
    assert "'OnChipMemoryBankPorts'" in lines and "ceil" in lines and "line 2 (Conv1)" in lines
    # evaluated: every loop at DRAM, P and Q outside R and S: each weight fetched once per MAC
    dims = conv2.dims
    m = Mapping((LevelMapping(dict(dims), tuple(dims)), LevelMapping(), LevelMapping()))
    assert evaluate(conv2, arch, m).count("DRAM", "weights", "reads") == conv2.macs
