"""The TPU v1's measured throughput on its six production applications against our model.

Source: N. Jouppi et al., "In-datacenter performance analysis of a tensor processing unit",
ISCA 2017: Table 1 (the applications; our stand-ins in ``workload.zoo.tpu``) and Table 3 (TOPS
measured on the TPU: MLP0 12.3, MLP1 9.7, LSTM0 3.7, LSTM1 2.8, CNN0 86.0, CNN1 14.1).
Convention: 1 MAC = 2 ops (the paper's 92 TOPS peak is 65,536 MACs x 2 x 700 MHz), so predicted
TOPS = 2 x MACs / cycles x 700 MHz over the application's MAC layers.

Each layer runs the TPU's own weight-stationary schedule (``schedule``) on ``tpu-v1`` (activations
on chip in the unified buffer, weights from the 34 GB/s weight memory): a fixed-function machine,
so no search (the mapper, objective cycles, finds the same TOPS on MLP0, MLP1, LSTM0, LSTM1 and
CNN0: docs/model.md, "Validation against the TPU v1").

Tolerance: the paper's roofline is within 15 % of the measured TOPS for the memory-bound MLPs and
LSTM0 (measured >= 0.85 x the bound), and our model of a memory-bound layer is that bound, so a
prediction within 1 / 0.85 - 1 = 17.6 % of the measured figure is as close as the paper's own
model; LSTM1 and CNN1, which the paper shows far below their roofs, are reported outside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import prod

from loopnest.arch import load_arch
from loopnest.arch.spec import Architecture
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.validation import Case
from loopnest.workload.problem import Problem
from loopnest.workload.zoo import tpu

SOURCE = "Jouppi et al., ISCA 2017, Tables 1 and 3 (TPU v1, measured TOPS)"
MEASURED_TOPS = {"mlp0": 12.3, "mlp1": 9.7, "lstm0": 3.7, "lstm1": 2.8, "cnn0": 86.0, "cnn1": 14.1}
TOLERANCE = 1 / 0.85 - 1
BASIS = ("the paper's roofline bound is within 15 % of the measured TOPS for the memory-bound MLPs and LSTM0 "
         "(measured >= 0.85 x bound): our bound within 1/0.85 - 1 = 17.6 % of it")


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def schedule(problem: Problem, arch: Architecture) -> Mapping:
    """The TPU's weight-stationary schedule of an FC or convolution layer on ``tpu-v1``: input
    channels C down the array's rows and output channels M across its columns (the largest
    divisors that fit 256), weight tiles (M, then C, then the filter taps) stepped in the unified
    buffer's loops, each tile held in the PEs while the batch and the output positions stream
    through (the innermost loops); where a tile's outputs exceed the accumulators (4096 x 256),
    the batch is split outermost (each part refetches the weights)."""
    d = problem.dims
    fan = arch.levels[3].fanout
    cx, my = _largest_divisor(d["C"], fan.x), _largest_divisor(d["M"], fan.y)
    stream = {k: d[k] for k in ("N", "P", "Q") if k in d}
    acc = arch.levels[3].capacity_words
    split = next((s for s in range(1, stream["N"] + 1) if stream["N"] % s == 0 and prod(stream.values()) // s * my <= acc),
                 stream["N"])
    taps = {k: d[k] for k in ("R", "S") if k in d}
    ub = {"N": split, "M": d["M"] // my, "C": d["C"] // cx, **taps}
    return Mapping((
        LevelMapping(),
        LevelMapping(temporal=ub, order=tuple(ub)),
        LevelMapping(),
        LevelMapping(spatial_x={"C": cx}, spatial_y={"M": my}),
        LevelMapping(temporal=stream | {"N": stream["N"] // split}, order=tuple(stream)),
    ))


def predicted_tops(name: str, arch: Architecture | None = None) -> float:
    """TOPS of an application at Table 1's batch: 2 x MACs / cycles x clock, over its MAC layers."""
    arch = arch or load_arch("tpu-v1")
    macs = cycles = 0.0
    for layer in tpu.build(name).layers:
        r = evaluate(layer, arch, schedule(layer, arch))
        macs += r.macs
        cycles += r.cycles
    return 2 * macs / cycles * arch.clock_mhz * 1e6 / 1e12


def cases() -> Iterator[Case]:
    arch = load_arch("tpu-v1")
    for name, measured in MEASURED_TOPS.items():
        yield Case(f"TPU v1 {name.upper()} (batch {tpu.BATCH[name]}): throughput", SOURCE, "TOPS", measured,
                   predicted_tops(name, arch), exact=False, tolerance=TOLERANCE, basis=BASIS)
