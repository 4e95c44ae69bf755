"""The cost model's size limits: loop bounds of any size packed into keys without collision,
counts exact in int64 up to a stated limit and refused (one clear error) beyond it, never a
negative or wrapped number. Expected values are counted by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loopnest.arch import load_arch
from loopnest.cli import app
from loopnest.mapping.mapping import MappingBatch
from loopnest.model import CountLimitError, ModelInvariantError, check_countable, evaluate_batch
from loopnest.model import costs as model_costs
from loopnest.model import counts as model_counts
from loopnest.model import limits as model_limits
from loopnest.search.mapper import search_layer
from loopnest.workload.layers import conv2d, fc, matmul
from loopnest.workload.problem import ROLES

W, I, O = (ROLES.index(r) for r in ("weights", "inputs", "outputs"))
INT64 = 2**63 - 1


def one_mapping(problem, arch, temporal: list[dict], orders: list[tuple], keep: list[set]) -> MappingBatch:
    """A batch of one mapping: per level its temporal factors, loop order (outer -> inner, the
    listed dimensions first) and kept tensors; no spatial factors."""
    dims = problem.dim_names
    L, D = len(arch.levels), len(dims)
    t = np.ones((1, L, D), np.int64)
    perm = np.tile(np.arange(D), (1, L, 1))
    for l in range(L):
        for d, f in temporal[l].items():
            t[0, l, dims.index(d)] = f
        first = [dims.index(d) for d in orders[l]]
        perm[0, l] = first + [i for i in range(D) if i not in first]
    k = np.array([[[r in keep[l] for r in ROLES] for l in range(L)]])
    return MappingBatch(t, perm, np.ones((1, L, 2, D), np.int64), k)


def all_at_dram(problem, arch) -> MappingBatch:
    """Every loop temporal at the outermost level (in the problem's order), nothing kept below."""
    L = len(arch.levels)
    return one_mapping(problem, arch, [dict(problem.dims)] + [{}] * (L - 1), [()] * L, [set(ROLES)] + [set()] * (L - 1))


def test_a_loop_bound_of_2_to_the_27_is_counted_exactly():
    # The MatMul [16, 32] x [32, 2**27] (P=16, C=32, M=2**27, 2**36 MACs) on eyeriss:
    # DRAM loops P (outer), M (inner); the GlobalBuffer loops over C=32 and keeps every tensor.
    # Weights W[M, C]: GLB tile 32 words; M is their innermost relevant DRAM loop, P outside it
    # refetches: 16 * 2**27 * 32 = 2**36 fills. Inputs I[P, C]: P is the innermost relevant loop
    # (M inside it is irrelevant: reused), 16 * 32 = 512 fills. Outputs O[P, M]: one word per
    # tile, 16 * 2**27 = 2**31 versions, each written back once (no read-backs). The MACs read
    # each operand from the GLB on every step (2**36) and update outputs 2**36 times, all but the
    # first write of each of the 2**31 elements preceded by a read.
    # Before the fix a bound of 2**27 spilled out of the 24-bit bound field of the loop keys.
    arch, problem = load_arch("eyeriss"), matmul("mm", P=16, C=32, M=2**27)
    batch = one_mapping(problem, arch, [{"P": 16, "M": 2**27}, {"C": 32}, {}], [("P", "M"), ("C",), ()],
                        [set(ROLES), set(ROLES), set()])
    c = evaluate_batch(problem, arch, batch).counts
    assert c.fills[0, 1, W] == c.reads[0, 0, W] == 2**36
    assert c.fills[0, 1, I] == c.reads[0, 0, I] == 512
    assert c.updates[0, 0, O] == 2**31 and c.reads[0, 0, O] == 0 and c.fills[0, 1, O] == 0
    assert c.reads[0, 1, W] == c.reads[0, 1, I] == c.updates[0, 1, O] == 2**36
    assert c.reads[0, 1, O] == 2**36 - 2**31
    assert c.compute_cycles[0] == 2**36


def test_a_loop_bound_beyond_int32_is_not_truncated():
    # fc with C = 2**32 + 1 (= 641 * 6700417), M = 1, every loop at DRAM, DRAM the only keeper:
    # the MACs read each operand 2**32 + 1 times and update the one output as often, each update
    # but the first preceded by a read (2**32). Before the fix the int32 path cast the bound
    # 2**32 + 1 to 1 (its proof saw only the cast values) and counted 1 read and 1 cycle.
    arch, problem = load_arch("eyeriss"), fc("wide", C=2**32 + 1, M=1)
    c = evaluate_batch(problem, arch, all_at_dram(problem, arch)).counts
    assert c.reads[0, 0, W] == c.reads[0, 0, I] == c.updates[0, 0, O] == c.compute_cycles[0] == 2**32 + 1
    assert c.reads[0, 0, O] == 2**32


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_packed_keys_find_the_innermost_real_loop_and_its_bound(data):
    # key = position << kb | bound (-1 for a loop of bound 1); the largest key over a set of
    # dimensions must be the innermost of their real loops, with its bound in the low kb bits,
    # for bounds up to the largest a key can hold. The reference searches positions directly.
    D = data.draw(st.integers(1, 64), "dimensions")
    dt = data.draw(st.sampled_from([np.int32, np.int64]), "dtype")
    pb = max(1, (D - 1).bit_length())
    top = np.iinfo(dt).bits - 1 - pb  # bits left for the bound
    bounds = data.draw(st.lists(st.one_of(st.just(1), st.integers(1, 2**top - 1)), min_size=D, max_size=D), "bounds")
    T = np.array(bounds, np.int64)[:, None]
    kb = model_limits._key_bits(int(T.max()), D, dt)
    assert kb is not None and (model_limits._key_bits(2**top, D, dt) is None)
    pos = np.array(data.draw(st.permutations(range(D)), "order"))[:, None]  # position of each dim
    key = model_counts._pack_keys(pos, T.astype(dt), kb, dt)
    dims = data.draw(st.sets(st.integers(0, D - 1), min_size=1), "relevant")
    k = max(int(key[d, 0]) for d in dims)
    real = [d for d in dims if bounds[d] > 1]
    if not real:
        assert k == -1
    else:
        inner = max(real, key=lambda d: pos[d, 0])
        assert k >> kb == pos[inner, 0] and k & ((1 << kb) - 1) == bounds[inner]


def test_the_int64_limit_is_exact_at_its_edge():
    # fc with C=1: every loop at DRAM, DRAM the only keeper. The MACs read each operand M times
    # and update each of the M outputs once (no read-backs). The limit for a layer without
    # sliding windows (halo 1) is (2**63 - 1) // 4 = 2**61 - 1 MACs: accepted exactly at it, one
    # MAC more is refused.
    arch = load_arch("eyeriss")
    at = fc("edge", C=1, M=2**61 - 1)
    assert model_limits.count_limit(at) == 2**61 - 1
    r = evaluate_batch(at, arch, all_at_dram(at, arch))
    c = r.counts
    assert c.reads[0, 0, W] == c.reads[0, 0, I] == c.updates[0, 0, O] == c.compute_cycles[0] == 2**61 - 1
    assert c.reads[0, 0, O] == 0
    assert r.utilization[0] == pytest.approx(1 / arch.pes)
    beyond = fc("beyond", C=1, M=2**61)
    with pytest.raises(CountLimitError, match=r"layer beyond: 2,305,843,009,213,693,952 MACs .* up to 2,305,843,009,213,693,951"):
        evaluate_batch(beyond, arch, all_at_dram(beyond, arch))
    # a stride-2 convolution (input rows span 2 * P, columns 2 * Q: halo 4) has a limit 4x lower
    assert model_limits.count_limit(conv2d("s2", C=1, M=1, H=8, W=8, R=2, stride=2)) == INT64 // 16


def test_a_huge_fc_layer_is_refused_not_counted_wrong():
    # The FC layer N=1000, C=M=1e10 (1e23 MACs): before the fix its counts wrapped
    # (utilization 2,970, negative reads); now a CountLimitError names the layer, its MACs and
    # the limit, from the model and, before any search, from the mapper.
    arch, problem = load_arch("eyeriss"), fc("huge_fc", N=1000, C=10**10, M=10**10)
    msg = r"layer huge_fc: 100,000,000,000,000,000,000,000 MACs .* too many to count exactly.* up to 2,305,843,009,213,693,951"
    with pytest.raises(CountLimitError, match=msg):
        evaluate_batch(problem, arch, all_at_dram(problem, arch))
    with pytest.raises(CountLimitError, match=msg):
        search_layer(problem, arch)


def test_a_conv_with_2_to_the_20_dimensions_is_refused():
    # C = M = 2**20 channels over a 2**20 x 2**20 map: 2**80 MACs; before the fix the compute
    # cycles wrapped to -2**63 and the energy came out negative
    arch = load_arch("eyeriss")
    problem = conv2d("huge_conv", C=2**20, M=2**20, H=2**20, W=2**20, R=1)
    with pytest.raises(CountLimitError, match="layer huge_conv: 1,208,925,819,614,629,174,706,176 MACs"):
        evaluate_batch(problem, arch, all_at_dram(problem, arch))


def test_a_dimension_too_large_for_the_keys_is_refused():
    # a conv has 8 dimensions (N G M C P Q R S): positions need 3 bits, so a key holds bounds
    # below 2**60; P = 2**60 alone is within the MAC limit (2**61 - 1) but cannot be packed
    problem = conv2d("tall", C=1, M=1, H=2**60, W=1, R=1)
    assert problem.macs == 2**60 <= model_limits.count_limit(problem)
    with pytest.raises(CountLimitError, match=r"layer tall: dimension P=1,152,921,504,606,846,976 is too large .* up to 1,152,921,504,606,846,975"):
        check_countable(problem)
    arch = load_arch("eyeriss")
    with pytest.raises(CountLimitError, match="layer tall"):
        evaluate_batch(problem, arch, all_at_dram(problem, arch))


def test_a_mapping_whose_bounds_overflow_is_refused():
    # a batch whose factors multiply to far more than the layer's size (not a valid mapping)
    # cannot be proven exact in int64: refused, naming the product
    arch, problem = load_arch("eyeriss"), fc("small", C=4, M=4)
    batch = all_at_dram(problem, arch)
    batch.temporal[0, 1] = 2**31
    with pytest.raises(CountLimitError, match="layer small: a mapping's loop bounds multiply to 2\\*\\*62 or more"):
        evaluate_batch(problem, arch, batch)


def test_a_broken_count_is_an_internal_error_not_a_number(monkeypatch):
    arch = load_arch("eyeriss")
    problem = fc("f", C=4, M=4)
    count = model_costs.count_block

    def negative(*a):
        words, *rest = count(*a)
        words[0, 0, O] = -5
        return (words, *rest)

    monkeypatch.setattr(model_costs, "count_block", negative)
    with pytest.raises(ModelInvariantError, match="internal error: the cost model computed -5 reads of outputs at level DRAM"):
        evaluate_batch(problem, arch, all_at_dram(problem, arch))


def test_the_cli_refuses_a_huge_layer_in_one_line(tmp_path):
    (tmp_path / "fc.yaml").write_text("layer: {type: fc, name: huge_fc, N: 1000, C: 10000000000, M: 10000000000}\n")
    (tmp_path / "m.yaml").write_text("mapping:\n  - level: DRAM\n    temporal: {N: 1000, M: 10000000000, C: 10000000000}\n"
                                     "  - level: GlobalBuffer\n    keep: []\n  - level: RF\n    keep: []\n")
    out = CliRunner().invoke(app, ["model", "--arch", "eyeriss", "--layer", str(tmp_path / "fc.yaml"), "--mapping", str(tmp_path / "m.yaml")])
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert out.exit_code == 2 and len(lines) == 1, out.output
    assert lines[0].startswith("error: layer huge_fc: 100,000,000,000,000,000,000,000 MACs") and "Traceback" not in out.output


def test_evaluate_refuses_a_huge_onnx_layer_in_one_line(tmp_path):
    # the route: an ONNX Gemm [1, 1e10] x [1e10, 1e10] (weights stored as external data
    # that is never read: only shapes are needed), `loopnest evaluate` on eyeriss
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[10**10, 10**10], data_location=TensorProto.EXTERNAL)
    w.external_data.add(key="location", value="w.bin")
    graph = helper.make_graph([helper.make_node("Gemm", ["A", "W"], ["Y"])], "fc",
                              [helper.make_tensor_value_info("A", TensorProto.FLOAT, [1, 10**10])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 10**10])], initializer=[w])
    onnx.save(helper.make_model(graph), str(tmp_path / "fc.onnx"))
    out = CliRunner().invoke(app, ["evaluate", str(tmp_path / "fc.onnx"), "--arch", "eyeriss", "--jobs", "1"])
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert out.exit_code == 2 and len(lines) == 1, out.output
    assert lines[0].startswith("error: layer Gemm_0: 100,000,000,000,000,000,000 MACs") and "up to 2,305,843,009,213,693,951" in lines[0]
