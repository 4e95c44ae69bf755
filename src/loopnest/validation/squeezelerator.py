"""The Squeezelerator's hybrid WS/OS claim (seed 002, Keutzer et al., co-design talk, after Kwon et al.,
DAC 2018: "Squeezelerator evolved to support both OS and WS dataflow modes. Initial results improved
accelerator performance on MobileNets v1 by 6x") against the ``squeezelerator-like`` preset.

The hybrid runs each layer in the faster of its two modes, chosen once per network; the seed does
not say which single mode the 6x is over, so there is a case for each, nor what the array unrolls
in each mode, so there are two readings:

- ``flexible``: loopnest's ``ws`` and ``os`` dataflow presets (the array unrolls any dimension that
  indexes the stationary tensor: a depthwise layer's groups too);
- ``systolic``: WS with input x output channels (C x M) on the array, as a weight-stationary
  systolic array holds them (the TPU, SCALE-Sim), and OS with output pixels and images on it
  (``os-a``, ISCA 2016's OS variant A).

Our cycles per layer are Eyexam's storage-capacity bound (``analysis.eyexam.capacity_bound_cycles``):
the preset has no bandwidth limits, so that is the mapper's latency optimum in each mode. MobileNet
v1, batch 1. Tolerance: "6x" is printed to one digit, so half a unit, 0.5 / 6.

Not checked here: the talk's "up to 6x reduction in energy over OS, WS" (per layer; it needs the
energy-optimal mapping of every MobileNet layer in both modes, minutes of search per run): see
``benchmarks/squeezelerator_energy.py`` and docs/arch.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case
from loopnest.validation.eyeriss_chip import printed_tolerance

SOURCE = "Squeezelerator (Kwon et al., DAC 2018), hybrid WS/OS on MobileNet v1; Keutzer et al., co-design talk"
BASIS = "\"6x\" printed to one digit: half a unit, 0.5 / 6"
PRINTED = "6"


def _ws_channels(problem, arch):
    """WS with only input and output channels (C, M) unrolled on the array (the systolic reading)."""
    from loopnest.mapping.constraints import Constraints, LevelConstraint
    from loopnest.mapping.dataflows import ANY, dataflow_constraints, pe_array

    only = {d: ANY for d in ("C", "M")}
    array = arch.levels[pe_array(arch)].name
    return dataflow_constraints("ws", problem, arch).meet(
        Constraints({array: LevelConstraint(spatial_x=only, spatial_y=dict(only))}, "ws, channels on the array"))


def _preset(name):
    from loopnest.mapping.dataflows import dataflow_constraints

    return lambda problem, arch: dataflow_constraints(name, problem, arch)


READINGS = {"flexible": {"ws": _preset("ws"), "os": _preset("os")},
            "systolic": {"ws": _ws_channels, "os": _preset("os-a")}}


def mode_cycles(reading: str = "flexible", model: str = "mobilenet_v1") -> dict[str, float]:
    """Batch-1 network cycles on ``squeezelerator-like`` in each mode of ``reading`` and in the
    hybrid (each layer in its faster mode)."""
    from loopnest.analysis.eyexam import capacity_bound_cycles
    from loopnest.arch import load_arch
    from loopnest.workload import load_network

    arch = load_arch("squeezelerator-like")
    layers = list(load_network(model, batch=1).layers)
    per = {mode: [capacity_bound_cycles(p, arch, rules(p, arch)) for p in layers] for mode, rules in READINGS[reading].items()}
    return {"ws": sum(per["ws"]), "os": sum(per["os"]), "hybrid": sum(map(min, per["ws"], per["os"]))}


def cases() -> Iterator[Case]:
    for reading in READINGS:
        got = mode_cycles(reading)
        for mode in ("ws", "os"):
            yield Case(f"MobileNet v1, {reading} modes: hybrid over {mode.upper()} alone", SOURCE,
                       f"speed-up (cycles in {mode.upper()} / cycles of the hybrid)", float(PRINTED),
                       got[mode] / got["hybrid"], exact=False, tolerance=printed_tolerance(PRINTED), basis=BASIS)
