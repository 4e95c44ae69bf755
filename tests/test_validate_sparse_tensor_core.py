"""The sparse-tensor-core-like preset (A100-like 2:4 sparse tensor cores) and its suite: 312 / 624
TFLOPS FP16 (NVIDIA A100 whitepaper, 2020) and 2-bit indices per non-zero (PTX ISA, mma.sp)."""

import json

import pytest
from typer.testing import CliRunner

from loopnest.arch import list_presets, load_arch
from loopnest.cli import app
from loopnest.model import evaluate
from loopnest.validation import sparse_tensor_core as stc
from loopnest.workload.density import Density, with_densities
from loopnest.workload.layers import fc


def test_structure():
    # 108 SMs x 4 tensor cores x 256 FMAs per clock; 1410 MHz; 7 nm; 2-bit indices wherever weights are kept
    a = load_arch("sparse-tensor-core-like")
    assert "sparse-tensor-core-like" in list_presets()
    assert a.pes == 108 * 4 * 256 == 110592 and (a.clock_mhz, a.technology_nm) == (1410, 7)
    assert all(lv.sparse.formats == {"weights": "cp"} and lv.sparse.metadata_bits == 2 for lv in a.levels)
    assert a.compute.sparse.skipping == ("weights",) and a.compute.sparse.load_balance == "ideal"


def test_2to4_weights_halve_the_cycles_and_store_9_bits_per_weight():
    # the suite's GEMM: 1728 x 4096 x 4096 MACs / 110,592 MACs = 262,144 cycles dense; 2:4 skips half
    # of the MACs (every block of four holds exactly two non-zeros): 131,072. Weights from HBM once:
    # per group of four, 2 x 16-bit values + 2 x 2-bit indices = 36 bits, 9 bits per dense weight.
    a = load_arch("sparse-tensor-core-like")
    gemm = fc("gemm", C=4096, M=4096, N=1728)
    dense = evaluate(gemm, a, stc.gemm_mapping())
    sparse = evaluate(with_densities(gemm, {"weights": Density.structured(2, 4)}), a, stc.gemm_mapping())
    assert dense.cycles == 262144 and sparse.cycles == 131072 and sparse.bound == "compute"
    assert sparse.actual_macs == gemm.macs / 2
    got = stc.ours()
    assert got["bits_per_weight"] == 9.0
    assert got["sparse_tflops"] == pytest.approx(2 * got["dense_tflops"], rel=1e-12)


def test_cli_suite_cases_are_within_tolerance():
    out = CliRunner().invoke(app, ["validate", "--json", "--suite", "sparse-tensor-core"])
    assert out.exit_code == 0, out.output
    cases = json.loads(out.output)["cases"]
    assert [c["expected"] for c in cases] == [312.0, 624.0, 9.0]
    assert [c["status"] for c in cases] == ["within tolerance", "within tolerance", "exact"]
