"""Static (leakage) energy: per component, times the modeled runtime, beside the dynamic energy;
the ``static`` objective metric."""

from __future__ import annotations

import numpy as np
import pytest

from loopnest.arch import ArchSpecError, parse_arch
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.model import evaluate
from loopnest.search.mapper import search_layer
from loopnest.search.objective import Objective
from loopnest.workload.layers import fc

UNIT = {"read": 1.0, "write": 1.0, "update": 1.0}


def leaky(buf_mw: float | None = 2.02, mac_mw: float | None = None, x: int = 14, y: int = 12) -> Architecture:
    return Architecture(name="leaky", clock_mhz=200, levels=(
        Storage(name="DRAM", **{"class": "dram"}, energy_pj=UNIT),
        Storage(name="Buf", capacity_words=1 << 16, energy_pj=UNIT, leakage_mw=buf_mw,
                fanout=Fanout(x=x, y=y, multicast=True, reduction=True))),
        compute=Compute(energy_pj=1.0, leakage_mw=mac_mw))


def test_eyeriss_leakage_per_mac_at_full_speed():
    # AccelForge's Eyeriss leaks 2.02 mW: at 200 MHz a cycle is 5 ns, 2.02 mW x 5 ns = 10.1 pJ per
    # cycle, over 168 MACs per cycle at full speed 0.0601 pJ/MAC ("0.060 pJ/MAC"). Hand case: FC
    # M=168 on 14 x 12 PEs, C=8 temporal: 8 cycles, 1,344 MACs, 8 x 10.1 = 80.8 pJ.
    layer = fc("f", C=8, M=168)
    m = Mapping((LevelMapping(), LevelMapping(temporal={"C": 8}, spatial_x={"M": 14}, spatial_y={"M": 12})))
    r = evaluate(layer, leaky(), m)
    assert r.cycles == 8 and r.utilization == 1.0
    assert r.leakage_energy_pj == pytest.approx(80.8)
    assert r.leakage_energy_pj / r.macs == pytest.approx(0.0601, abs=5e-5)
    d = r.to_dict()
    assert d["leakage_by_component_pj"] == {"Buf": pytest.approx(80.8)}
    assert d["total_energy_pj"] == pytest.approx(d["energy_pj"] + 80.8)
    assert d["energy_pj"] == r.energy_pj  # the dynamic energy is unchanged by leakage


def test_leakage_counts_every_instance():
    # 0.01 mW per MAC unit x 168 units = 1.68 mW, plus the buffer's 2.02: 3.7 mW x 8 cycles x 5 ns = 148 pJ
    layer = fc("f", C=8, M=168)
    m = Mapping((LevelMapping(), LevelMapping(temporal={"C": 8}, spatial_x={"M": 14}, spatial_y={"M": 12})))
    r = evaluate(layer, leaky(mac_mw=0.01), m)
    assert r.leakage_by_component_pj() == {"Buf": pytest.approx(80.8), "MAC": pytest.approx(1.68 * 40)}
    assert r.leakage_energy_pj == pytest.approx(148.0)
    assert evaluate(layer, leaky(buf_mw=None), m).leakage_energy_pj == 0.0


def test_static_objective_metric():
    o = Objective.parse("energy+static")
    o = type(o)(o.keys, o.text, static_pj_per_cycle=10.1)
    keys = o.values(np.array([100.0, 50.0]), np.array([1.0, 10.0]))
    assert keys[:, 0].tolist() == pytest.approx([110.1, 151.0])
    # on a leaky architecture the static optimum is the fastest mapping
    layer = fc("f", C=8, M=16, N=2)
    arch = leaky(x=4, y=2)
    fast = search_layer(layer, arch, objective="cycles")
    static = search_layer(layer, arch, objective="static")
    assert static.result.cycles == fast.result.cycles
    assert static.result.leakage_energy_pj == pytest.approx(2.02 * fast.result.cycles * 5)


def test_leakage_cannot_mix_with_normalized_units():
    spec = {"name": "x", "levels": [{"name": "D", "class": "dram"}, {"name": "B", "capacity_words": 64, "leakage_mw": 1.0}]}
    with pytest.raises(ArchSpecError, match="leakage_mw"):
        parse_arch(spec, table="eyeriss65")
    assert parse_arch(spec, table="horowitz45").leakage_mw() == {"B": 1.0}


def test_validate_case_against_accelforge():
    # 2.02 mW x 1e3 / 200 MHz = 10.1 pJ per cycle over 168 MACs: 0.0601 pJ/MAC (AccelForge: 0.060)
    from loopnest.validation import leakage

    (case,) = leakage.cases()
    assert case.got == pytest.approx(2.02e3 / 200 / 168) and case.status == "within tolerance"
