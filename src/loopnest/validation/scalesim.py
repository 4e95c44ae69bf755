"""Systolic cycles against SCALE-Sim: GEMMs on its own fixed dataflows (WS, OS, IS).

Source: SCALE-Sim 3.0.0 (the ``scalesim`` package), run by ``benchmarks/peer_scalesim.py`` in its
own virtual environment: GEMM topology (M, N, K), ``ArrayHeight`` x ``ArrayWidth`` PEs, the
user bandwidth large enough that no layer stalls (``Stall Cycles`` 0); ``RUNS`` holds each run's
``Total Cycles`` column of COMPUTE_REPORT.csv. SCALE-Sim's GEMM has inputs M x K, weights K x N,
outputs M x N: ours is an FC layer with N (batch) = M, M (outputs) = N and C = K.

Ours: ``systolic_arch`` (a buffer whose fanout is the ``x`` rows by ``y`` columns array, with
``systolic`` set to the dataflow) and SCALE-Sim's own mapping (``systolic_mapping``): its
stationary operand's two dimensions on the rows and the columns (WS: K x N, OS: M x N, IS:
K x M), their folds as the buffer's temporal loops (``ceil(dimension / array side)``, the last
fold partial where the side does not divide the dimension, as in SCALE-Sim), the third dimension
streamed (``T``) inside the PEs, so the model's cycles are ``folds x (T + fill_drain)``.
``CONV_RUNS``: ResNet-50 convolutions in SCALE-Sim's conv mode on the same fixed dataflows
(``conv_mapping``).

Whole networks (``NETWORKS``): AlexNet's five convolutions and ResNet-50's 54 layers, SCALE-Sim's
own topologies (``topologies/conv_nets/alexnet.csv``, ``Resnet50.csv``), on a 32 x 32 array.
SCALE-Sim runs a convolution as the GEMM of its operand matrices (im2col): pixels x window
(``C R S``) times window x filters; ours is that GEMM (``im2col``) on SCALE-Sim's mapping, so the
window's partial last fold is a padded fold of one dimension. Their totals: the SCALE-Sim 3 runs
recorded in issue 20 (WS, OS, IS on AlexNet; WS on ResNet-50), and ResNet-50 OS and IS from
SCALE-Sim 3.0.0's compute system (``COMPUTE_SOURCE``: ``benchmarks/peer_scalesim.py
--compute-only``, which gives the full runs' figures on AlexNet WS per layer and on AlexNet WS,
OS, IS and ResNet-50 WS in total). Per layer (``LAYER_CYCLES``): AlexNet WS from a SCALE-Sim
3.0.0 run of its alexnet.csv, the rest from its compute system.

Remaining error: SCALE-Sim's total is one cycle below its folds' sum on every run listed here,
so the tolerance is one cycle of the total (one per layer for a network).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.constraints import Constraints, FactorRule, LevelConstraint
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.search.mapper import search_layer
from loopnest.validation import Case
from loopnest.workload.layers import conv2d, fc

SOURCE = "SCALE-Sim 3.0.0, GEMM runs of benchmarks/peer_scalesim.py (COMPUTE_REPORT.csv, Total Cycles)"
BASIS = "SCALE-Sim's total is one cycle below the sum of its folds on every run (docs/model.md): one cycle of the total"


@dataclass(frozen=True)
class Run:
    dataflow: str  # ws | os | is
    rows: int  # ArrayHeight (our fanout x)
    cols: int  # ArrayWidth (our fanout y)
    m: int  # SCALE-Sim's GEMM M, N, K
    n: int
    k: int
    cycles: int  # SCALE-Sim's Total Cycles

    @property
    def name(self) -> str:
        return f"{self.dataflow.upper()} {self.rows}x{self.cols}, GEMM M={self.m} N={self.n} K={self.k}"


RUNS = (
    Run("ws", 32, 32, 100, 64, 96, 1163),
    Run("ws", 32, 32, 50, 64, 96, 863),
    Run("ws", 16, 32, 100, 64, 32, 647),
    Run("os", 32, 32, 96, 64, 100, 971),
    Run("os", 32, 32, 64, 32, 32, 187),
    Run("os", 16, 32, 96, 64, 100, 1751),
    Run("is", 32, 32, 96, 100, 64, 1163),
    Run("is", 16, 32, 96, 100, 64, 1943),
)


@dataclass(frozen=True)
class ConvRun:
    """A stride-1 convolution in SCALE-Sim's conv mode: P x P outputs, C -> M channels, R x R
    filters (SCALE-Sim's IFMAP is P + R - 1 wide, unpadded). SCALE-Sim flattens C x R x R onto one
    array axis (im2col); ours keeps C on it and steps R x R in the buffer: the same folds where C
    divides the array."""

    dataflow: str
    rows: int
    cols: int
    p: int
    c: int
    m: int
    r: int
    cycles: int

    @property
    def name(self) -> str:
        return f"{self.dataflow.upper()} {self.rows}x{self.cols}, conv P={self.p} C={self.c} M={self.m} R={self.r}"


# ResNet-50 shapes: res2's 1x1 (64 -> 256) and 3x3 (64 -> 64) convs at 56 x 56, res5's 3x3 at 14 x 14
CONV_RUNS = (
    ConvRun("ws", 32, 32, 56, 64, 256, 1, 51679),
    ConvRun("ws", 32, 32, 56, 64, 64, 3, 116279),
    ConvRun("ws", 32, 32, 14, 256, 256, 3, 167039),
    ConvRun("os", 32, 32, 56, 64, 256, 1, 98783),
    ConvRun("os", 32, 32, 56, 64, 64, 3, 125047),
    ConvRun("is", 32, 32, 56, 64, 256, 1, 68599),
    ConvRun("is", 32, 32, 56, 64, 64, 3, 278711),
)


@dataclass(frozen=True)
class Layer:
    """A line of SCALE-Sim's conv topology: the IFMAP (unpadded), the filter, channels, filters, stride."""

    name: str
    h: int
    w: int
    r: int
    s: int
    c: int
    filters: int
    stride: int


def _topology(text: str) -> tuple[Layer, ...]:
    return tuple(Layer(n, *map(int, rest.split())) for n, rest in (line.split(maxsplit=1) for line in text.strip().splitlines()))


# SCALE-Sim's topologies/conv_nets/alexnet.csv and Resnet50.csv (scale-sim-v2): name, IFMAP H, W,
# filter R, S, channels, filters, stride
NETS = {"AlexNet": _topology("""
Conv1 224 224 11 11 3 96 4
Conv2 27 27 5 5 96 256 1
Conv3 13 13 3 3 256 384 1
Conv4 13 13 3 3 384 384 1
Conv5 13 13 3 3 384 256 1
"""), "ResNet-50": _topology("""
Conv1 224 224 7 7 3 64 2
CB2a_1 56 56 1 1 64 64 1
CB2a_2 56 56 3 3 64 64 1
CB2a_3 56 56 1 1 64 256 1
CB2s 56 56 1 1 64 256 1
IB2b_1 56 56 1 1 256 64 1
IB2b_2 56 56 3 3 64 64 1
IB2b_3 56 56 1 1 64 256 1
IB2c_1 56 56 1 1 256 64 1
IB2c_2 56 56 3 3 64 64 1
IB2c_3 56 56 1 1 64 256 1
CB3a_1 56 56 1 1 256 128 2
CB3a_2 28 28 3 3 128 128 1
CB3a_3 28 28 1 1 128 512 1
CB3s 56 56 1 1 256 512 2
IB3b_1 28 28 1 1 512 128 1
IB3b_2 28 28 3 3 128 128 1
IB3b_3 28 28 1 1 128 512 1
IB3c_1 28 28 1 1 512 128 1
IB3c_2 28 28 3 3 128 128 1
IB3c_3 28 28 1 1 128 512 1
IB3d_1 28 28 1 1 512 128 1
IB3d_2 28 28 3 3 128 128 1
IB3d_3 28 28 1 1 128 512 1
CB4a_1 28 28 1 1 512 256 2
CB4a_2 14 14 3 3 256 256 1
CB4a_3 14 14 1 1 256 1024 1
CB4s 28 28 1 1 512 1024 2
IB4b_1 14 14 1 1 1024 256 1
IB4b_2 14 14 3 3 256 256 1
IB4b_3 14 14 1 1 256 1024 1
IB4c_1 14 14 1 1 1024 256 1
IB4c_2 14 14 3 3 256 256 1
IB4c_3 14 14 1 1 256 1024 1
IB4d_1 14 14 1 1 1024 256 1
IB4d_2 14 14 3 3 256 256 1
IB4d_3 14 14 1 1 256 1024 1
IB4e_1 14 14 1 1 1024 256 1
IB4e_2 14 14 3 3 256 256 1
IB4e_3 14 14 1 1 256 1024 1
IB4f_1 14 14 1 1 1024 256 1
IB4f_2 14 14 3 3 256 256 1
IB4f_3 14 14 1 1 256 1024 1
CB5a_1 14 14 1 1 1024 512 2
CB5a_2 7 7 3 3 512 512 1
CB5a_3 7 7 1 1 512 2048 1
CB5s 14 14 1 1 1024 2048 2
IB5b_1 7 7 1 1 2048 512 1
IB5b_2 7 7 3 3 512 512 1
IB5b_3 7 7 1 1 512 2048 1
IB5c_1 7 7 1 1 2048 512 1
IB5c_2 7 7 3 3 512 512 1
IB5c_3 7 7 1 1 512 2048 1
FC6 1 1 1 1 2048 1000 1
""")}


ALEXNET_COMPUTE_SOURCE = ("SCALE-Sim 3.0.0's compute system on its alexnet.csv, 32 x 32 (benchmarks/peer_scalesim.py "
                          "--compute-only: its Total Cycles where nothing stalls; the five add up to the full run's total)")
NET_SOURCE = "SCALE-Sim 3 on its own AlexNet and ResNet-50 topologies, 32 x 32 (totals recorded in issue 20)"
COMPUTE_SOURCE = ("SCALE-Sim 3.0.0's compute system on its Resnet50.csv, 32 x 32 (benchmarks/peer_scalesim.py "
                  "--compute-only: its Total Cycles where nothing stalls; equal to the full runs' on AlexNet WS, OS, IS "
                  "and ResNet-50 WS)")


@dataclass(frozen=True)
class NetworkRun:
    network: str  # a key of NETS
    dataflow: str
    cycles: int  # SCALE-Sim's total over the network's layers, 32 x 32
    source: str = NET_SOURCE

    @property
    def name(self) -> str:
        return f"{self.dataflow.upper()} 32x32, {self.network} ({len(NETS[self.network])} layers), total"


NETWORKS = (
    NetworkRun("AlexNet", "ws", 1_136_239),
    NetworkRun("AlexNet", "os", 850_960),
    NetworkRun("AlexNet", "is", 1_158_205),
    NetworkRun("ResNet-50", "ws", 5_753_486),
    NetworkRun("ResNet-50", "os", 4_434_168, COMPUTE_SOURCE),
    NetworkRun("ResNet-50", "is", 5_608_356, COMPUTE_SOURCE),
)
LAYER_SOURCE = "SCALE-Sim 3.0.0, conv mode on its alexnet.csv, 32 x 32 (COMPUTE_REPORT.csv, Total Cycles)"
# SCALE-Sim 3.0.0 per layer, NETS order: AlexNet WS (conv mode on its alexnet.csv, 32 x 32, COMPUTE_REPORT.csv's
# Total Cycles, run for this suite with benchmarks/peer_scalesim.py's config; they sum to the WS total above);
# AlexNet OS and IS and ResNet-50 WS, OS and IS from its compute system (each distinct shape run once): AlexNet's
# and ResNet-50 WS's layers add up to the full runs' totals above
LAYER_CYCLES = {
    ("AlexNet", "ws"): ((112_283, 373_799, 185_759, 278_639, 185_759), LAYER_SOURCE),
    ("AlexNet", "os"): ((121_124, 334_831, 113_567, 168_863, 112_575), ALEXNET_COMPUTE_SOURCE),
    ("AlexNet", "is"): ((216_599, 446_249, 137_663, 206_495, 151_199), ALEXNET_COMPUTE_SOURCE),
    ("ResNet-50", "ws"): ((121_939, 12_919, 108_359, 51_679, 51_679, 51_679, 108_359, 51_679, 51_679, 108_359,
                           51_679, 29_919, 110_879, 56_191, 119_679, 56_191, 110_879, 56_191, 56_191, 110_879,
                           56_191, 56_191, 110_879, 56_191, 40_831, 137_087, 74_239, 163_327, 74_239, 137_087,
                           74_239, 74_239, 137_087, 74_239, 74_239, 137_087, 74_239, 74_239, 137_087, 74_239,
                           74_239, 137_087, 74_239, 80_895, 274_175, 146_431, 323_583, 146_431, 274_175, 146_431,
                           146_431, 274_175, 146_431, 194_559), COMPUTE_SOURCE),
    ("ResNet-50", "os"): ((158_421, 24_695, 117_391, 98_783, 98_783, 62_327, 117_391, 98_783, 62_327, 117_391, 98_783,
                           34_343, 106_831, 75_999, 137_375, 57_399, 106_831, 75_999, 57_399, 106_831, 75_999, 57_399,
                           106_831, 75_999, 36_735, 94_639, 71_231, 146_943, 60_815, 94_639, 71_231, 60_815, 94_639,
                           71_231, 60_815, 94_639, 71_231, 60_815, 94_639, 71_231, 60_815, 94_639, 71_231, 34_751,
                           74_719, 73_471, 139_007, 67_519, 74_719, 73_471, 67_519, 74_719, 73_471, 67_519), COMPUTE_SOURCE),
    ("ResNet-50", "is"): ((299_409, 30_967, 261_647, 68_599, 68_599, 123_871, 261_647, 68_599, 123_871,
                           261_647, 68_599, 47_951, 175_823, 60_599, 130_895, 88_799, 175_823, 60_599,
                           88_799, 175_823, 60_599, 88_799, 175_823, 60_599, 44_799, 125_999, 62_607,
                           143_103, 78_399, 125_999, 62_607, 78_399, 125_999, 62_607, 78_399, 125_999,
                           62_607, 78_399, 125_999, 62_607, 78_399, 125_999, 62_607, 38_783, 87_263,
                           68_543, 137_087, 77_567, 87_263, 68_543, 77_567, 87_263, 68_543, 70_015), COMPUTE_SOURCE),
}
NET_BASIS = "SCALE-Sim's total is one cycle below the sum of its folds on every layer: one cycle per layer"


def systolic_arch(run: Run | ConvRun) -> Architecture:
    """DRAM, an unbounded-enough buffer whose fanout is the systolic array, and one PE register."""
    unit = {"read": 1.0, "write": 1.0, "update": 1.0}
    array = Fanout(x=run.rows, y=run.cols, multicast=True, reduction=True, systolic=run.dataflow)
    keep = {"ws": "weights", "os": "outputs", "is": "inputs"}[run.dataflow]
    return Architecture(name=f"systolic-{run.dataflow}-{run.rows}x{run.cols}", levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=unit),
        Storage(name="Buffer", capacity_words=1 << 24, energy_pj=unit, fanout=array),
        Storage(name="PE", **{"class": "register"}, capacity_words=1, keeps=(keep,), energy_pj=unit),
    ), compute=Compute(energy_pj=1.0))


def systolic_mapping(run: Run) -> Mapping:
    """SCALE-Sim's mapping of ``run`` in our dimensions (N = its M, M = its N, C = its K): rows x
    columns hold WS K x N, OS M x N, IS K x M; the third streams inside the PEs."""
    ours = {"m": "N", "n": "M", "k": "C"}
    size = {"m": run.m, "n": run.n, "k": run.k}
    row, col, stream = {"ws": "knm", "os": "mnk", "is": "kmn"}[run.dataflow]
    folds = {ours[row]: -(-size[row] // run.rows), ours[col]: -(-size[col] // run.cols)}  # the last may be partial
    x, y = min(size[row], run.rows), min(size[col], run.cols)
    return Mapping((
        LevelMapping(),
        LevelMapping(temporal=folds, spatial_x={ours[row]: x}, spatial_y={ours[col]: y}),
        LevelMapping(temporal={ours[stream]: size[stream]}),
    ))


def conv_mapping(run: ConvRun) -> Mapping:
    """SCALE-Sim's mapping of a convolution: WS C x M on the rows x columns (filter taps stepped in
    the buffer, the P x Q pixels streamed), OS pixels x M (C, R, S streamed), IS C x pixels (M
    streamed). The pixels' axis of n PEs holds gcd(P, n) rows of P times n / gcd(P, n) of Q."""
    n = run.rows if run.dataflow == "os" else run.cols  # the axis that holds pixels (OS, IS)
    px = math.gcd(run.p, n)
    qx = n // px
    pix_ok = run.p % qx == 0 if run.dataflow != "ws" else True
    chan_ok = run.c % run.rows == 0 if run.dataflow != "os" else True
    m_ok = run.m % run.cols == 0 if run.dataflow != "is" else True
    if not (pix_ok and chan_ok and m_ok):
        raise ValueError(f"{run.name}: the array does not divide the shape (conv_mapping splits exactly; im2col takes partial folds)")
    taps = {"R": run.r, "S": run.r}
    pix_fold, pix = {"P": run.p // px, "Q": run.p // qx}, {"P": px, "Q": qx}
    if run.dataflow == "ws":
        buf, x, y, pe = {"C": run.c // run.rows} | taps | {"M": run.m // run.cols}, {"C": run.rows}, {"M": run.cols}, {"P": run.p, "Q": run.p}
    elif run.dataflow == "os":
        buf, x, y, pe = pix_fold | {"M": run.m // run.cols}, pix, {"M": run.cols}, {"C": run.c} | taps
    else:
        buf, x, y, pe = {"C": run.c // run.rows} | taps | pix_fold, {"C": run.rows}, pix, {"M": run.m}
    return Mapping((LevelMapping(), LevelMapping(temporal=buf, spatial_x=x, spatial_y=y), LevelMapping(temporal=pe)))


def dataflow_constraints(run: Run) -> Constraints:
    """SCALE-Sim's fixed dataflow as constraints, the folds left to the mapper: the stationary
    operand's two dimensions alone on the rows and the columns (``systolic_mapping``'s), the third
    streamed whole inside the PEs."""
    ours = {"m": "N", "n": "M", "k": "C"}
    row, col, stream = (ours[c] for c in {"ws": "knm", "os": "mnk", "is": "kmn"}[run.dataflow])
    return Constraints({"Buffer": LevelConstraint(spatial_x={row: FactorRule()}, spatial_y={col: FactorRule()}),
                        "PE": LevelConstraint(temporal={stream: FactorRule(full=True), row: FactorRule(1, 1),
                                                        col: FactorRule(1, 1)})}, "SCALE-Sim's dataflow")


def mapper_cycles(run: Run) -> float:
    """The cycles of the mapper's fewest-cycles mapping of ``run``'s GEMM under its dataflow: the
    folds, partial ones included (``search.padded``), are the mapper's choice."""
    problem = fc(f"gemm{run.m}x{run.n}x{run.k}", C=run.k, M=run.n, N=run.m)
    return search_layer(problem, systolic_arch(run), dataflow_constraints(run), objective="cycles").result.cycles


def cycles(run: Run | ConvRun) -> float:
    """Our cycles for ``run`` (the shapes must divide the array)."""
    if isinstance(run, ConvRun):
        problem = conv2d(f"conv{run.p}x{run.c}x{run.m}x{run.r}", C=run.c, M=run.m, H=run.p + run.r - 1,
                         W=run.p + run.r - 1, R=run.r)
        return evaluate(problem, systolic_arch(run), conv_mapping(run)).cycles
    problem = fc(f"gemm{run.m}x{run.n}x{run.k}", C=run.k, M=run.n, N=run.m)
    return evaluate(problem, systolic_arch(run), systolic_mapping(run)).cycles


def im2col(layer: Layer, dataflow: str, rows: int = 32, cols: int = 32) -> Run:
    """The GEMM SCALE-Sim runs for a convolution: M = output pixels (its ofmap side is
    ``ceil((H - R + stride) / stride)``), N = filters, K = the window ``R S C``. Its ``cycles`` is
    0: SCALE-Sim's figures here are network totals."""
    p = -(-(layer.h - layer.r + layer.stride) // layer.stride)
    q = -(-(layer.w - layer.s + layer.stride) // layer.stride)
    return Run(dataflow, rows, cols, p * q, layer.filters, layer.r * layer.s * layer.c, 0)


@lru_cache(maxsize=None)
def _layer_cycles(layer: Layer, dataflow: str) -> float:
    """Our cycles of one network layer (its im2col GEMM), once per layer and dataflow."""
    return cycles(im2col(layer, dataflow))


def cases() -> Iterator[Case]:
    for run in RUNS + CONV_RUNS:
        yield Case(run.name, SOURCE, "cycles", run.cycles, cycles(run), exact=False,
                   tolerance=1 / run.cycles, basis=BASIS)
    for (network, dataflow), (theirs, source) in LAYER_CYCLES.items():
        for layer, expected in zip(NETS[network], theirs):
            yield Case(f"{dataflow.upper()} 32x32, {network} {layer.name}", source, "cycles", expected,
                       _layer_cycles(layer, dataflow), exact=False, tolerance=1 / expected, basis=BASIS)
    conv1, theirs = NETS["AlexNet"][0], LAYER_CYCLES[("AlexNet", "ws")][0][0]
    yield Case("WS 32x32, the mapper's folds on AlexNet's conv1 (window 363: 12 row folds, the last partial)", LAYER_SOURCE,
               "cycles", theirs, mapper_cycles(im2col(conv1, "ws")), exact=False, tolerance=1 / theirs, basis=BASIS)
    for net in NETWORKS:
        layers = NETS[net.network]
        ours = sum(_layer_cycles(layer, net.dataflow) for layer in layers)
        yield Case(net.name, net.source, "cycles", net.cycles, ours, exact=False,
                   tolerance=len(layers) / net.cycles, basis=NET_BASIS)
