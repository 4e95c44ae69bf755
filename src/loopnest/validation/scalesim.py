"""Systolic cycles against SCALE-Sim: GEMMs on its own fixed dataflows (WS, OS, IS).

Source: SCALE-Sim 3.0.0 (the ``scalesim`` package), run by ``benchmarks/peer_scalesim.py`` in its
own virtual environment: GEMM topology (M, N, K), ``ArrayHeight`` x ``ArrayWidth`` PEs, the
user bandwidth large enough that no layer stalls (``Stall Cycles`` 0); ``RUNS`` holds each run's
``Total Cycles`` column of COMPUTE_REPORT.csv. SCALE-Sim's GEMM has inputs M x K, weights K x N,
outputs M x N: ours is an FC layer with N (batch) = M, M (outputs) = N and C = K.

Ours: ``systolic_arch`` (a buffer whose fanout is the ``x`` rows by ``y`` columns array, with
``systolic`` set to the dataflow) and SCALE-Sim's own mapping (``systolic_mapping``): its
stationary operand's two dimensions on the rows and the columns (WS: K x N, OS: M x N, IS:
K x M), their folds as the buffer's temporal loops, the third dimension streamed (``T``) inside
the PEs. The shapes divide the array (we have no partial folds: the mapper-at-scale issue), so
the model's cycles are ``folds x (T + fill_drain)``. ``CONV_RUNS``: ResNet-50 convolutions in
SCALE-Sim's conv mode on the same fixed dataflows (``conv_mapping``).

Remaining error: SCALE-Sim's total is one cycle below its folds' sum on every run listed here,
so the tolerance is one cycle of the total.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
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
    folds = {ours[row]: size[row] // run.rows, ours[col]: size[col] // run.cols}
    return Mapping((
        LevelMapping(),
        LevelMapping(temporal=folds, spatial_x={ours[row]: run.rows}, spatial_y={ours[col]: run.cols}),
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
        raise ValueError(f"{run.name}: the array does not divide the shape (no partial folds)")
    taps = {"R": run.r, "S": run.r}
    pix_fold, pix = {"P": run.p // px, "Q": run.p // qx}, {"P": px, "Q": qx}
    if run.dataflow == "ws":
        buf, x, y, pe = {"C": run.c // run.rows} | taps | {"M": run.m // run.cols}, {"C": run.rows}, {"M": run.cols}, {"P": run.p, "Q": run.p}
    elif run.dataflow == "os":
        buf, x, y, pe = pix_fold | {"M": run.m // run.cols}, pix, {"M": run.cols}, {"C": run.c} | taps
    else:
        buf, x, y, pe = {"C": run.c // run.rows} | taps | pix_fold, {"C": run.rows}, pix, {"M": run.m}
    return Mapping((LevelMapping(), LevelMapping(temporal=buf, spatial_x=x, spatial_y=y), LevelMapping(temporal=pe)))


def cycles(run: Run | ConvRun) -> float:
    """Our cycles for ``run`` (the shapes must divide the array)."""
    if isinstance(run, ConvRun):
        problem = conv2d(f"conv{run.p}x{run.c}x{run.m}x{run.r}", C=run.c, M=run.m, H=run.p + run.r - 1,
                         W=run.p + run.r - 1, R=run.r)
        return evaluate(problem, systolic_arch(run), conv_mapping(run)).cycles
    if run.m * run.n * run.k % (run.rows * run.cols):
        raise ValueError(f"{run.name}: the array does not divide the shape (no partial folds)")
    problem = fc(f"gemm{run.m}x{run.n}x{run.k}", C=run.k, M=run.n, N=run.m)
    return evaluate(problem, systolic_arch(run), systolic_mapping(run)).cycles


def cases() -> Iterator[Case]:
    for run in RUNS + CONV_RUNS:
        yield Case(run.name, SOURCE, "cycles", run.cycles, cycles(run), exact=False,
                   tolerance=1 / run.cycles, basis=BASIS)
