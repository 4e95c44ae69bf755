"""The A100's published 2:4 sparse tensor-core figures against the ``sparse-tensor-core-like`` preset.

Sources: NVIDIA, "NVIDIA A100 Tensor Core GPU Architecture" (whitepaper V1.0, 2020): 312 TFLOPS
dense FP16 tensor math, 624 TFLOPS "with sparsity" (108 SMs x 4 tensor cores x 256 FP16 FMAs per
clock at 1410 MHz); NVIDIA, "Parallel Thread Execution ISA", mma.sp "Sparse matrix storage": at
2:4 each group of four values keeps two, with the index of each in the metadata (2 bits per
non-zero). Convention: 1 FMA = 2 FLOPs.

- Dense peak: 2 x PEs x clock of the preset against 312 TFLOPS.
- Sparse peak: a large FP16 GEMM (N = 1728 rows, C = K = 4096, M = 4096) at weights 2:4 on a
  fixed mapping that uses all 110,592 MACs, evaluated by the model: 2 x algorithmic (dense-
  equivalent) MACs / modeled cycles x clock against 624 TFLOPS (the skipped MACs take no cycle;
  the mapping is compute-bound: its HBM reads take under a quarter of the compute cycles).
- Weight storage: bits the model moves from HBM per dense weight (values and indices of the
  compressed weights, each weight read once) against the PTX layout's 2 x 16 + 4 bits per group
  of four = 9 bits per weight (exact: both are counts).
Tolerance for the two peaks: half a unit of the printed digit (312: 0.5 TFLOPS; 624: 0.5 TFLOPS).
Not checked: measured speedups of sparse networks (Mishra et al. report network-level figures
that depend on kernels and layers outside this model).
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

SOURCE = "NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020); PTX ISA, mma.sp sparse matrix storage"
BASIS = "half a unit in the last digit the whitepaper prints (312 and 624 TFLOPS: 0.5 TFLOPS)"


def gemm_mapping():
    """All 110,592 MACs busy: rows N over the 108 SMs, M over the 4 tensor cores and 16 columns of
    each core's 16 x 16 MACs, C (the reduction) over its 16 rows; a 2048-wide half of the weights
    in L2 at a time (its inputs, compressed weights and outputs fit the 40 MB)."""
    from loopnest.mapping.mapping import LevelMapping, Mapping

    return Mapping((
        LevelMapping(temporal={"M": 2}, order=("M",)),
        LevelMapping(temporal={"M": 32, "C": 16}, order=("M", "C"), spatial_x={"N": 108}),
        LevelMapping(temporal={"C": 16}, order=("C",), spatial_x={"M": 4}),
        LevelMapping(temporal={"N": 16}, order=("N",), spatial_x={"M": 16}, spatial_y={"C": 16}),
    ))


def ours() -> dict[str, float]:
    from loopnest.arch import load_arch
    from loopnest.model import evaluate
    from loopnest.workload.density import Density, with_densities
    from loopnest.workload.layers import fc

    a = load_arch("sparse-tensor-core-like")
    gemm = fc("gemm", C=4096, M=4096, N=1728)
    r = evaluate(with_densities(gemm, {"weights": Density.structured(2, 4)}), a, gemm_mapping())
    hbm = a.levels[0]
    w = 1  # weights
    weight_bits = (r.costs.sparse.actual[0, 0, w].sum() * 16 + r.costs.sparse.metadata[0, 0, w].sum() * hbm.sparse.metadata_bits)
    return {"dense_tflops": 2 * a.pes * a.clock_mhz / 1e6,
            "sparse_tflops": 2 * r.macs / r.cycles * a.clock_mhz / 1e6,
            "bits_per_weight": float(weight_bits / r.count("HBM", "weights", "reads")),
            "bound": r.bound}


def cases() -> Iterator[Case]:
    got = ours()
    yield Case("sparse-tensor-core-like dense peak", SOURCE, "FP16 tensor TFLOPS, dense", 312.0, got["dense_tflops"],
               exact=False, tolerance=printed_tolerance("312"), basis=BASIS)
    yield Case("sparse-tensor-core-like 2:4 GEMM", SOURCE, "FP16 tensor TFLOPS with 2:4 weights (dense-equivalent)", 624.0,
               got["sparse_tflops"], exact=False, tolerance=printed_tolerance("624"), basis=BASIS)
    yield Case("sparse-tensor-core-like 2:4 weight storage", SOURCE, "HBM bits per dense FP16 weight (values + 2-bit indices)",
               9.0, got["bits_per_weight"], exact=True)
