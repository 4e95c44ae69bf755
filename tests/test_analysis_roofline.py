"""Roofline: a hand-derived case, and the property that no achieved point lies above any roof."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopnest.analysis.roofline import (
    attainable,
    compute_roof,
    layer_point,
    level_roofs,
    roofline,
)
from loopnest.arch.spec import Architecture, Compute, Fanout, Storage
from loopnest.mapping.mapping import LevelMapping, Mapping
from loopnest.mapping.mapspace import Mapspace
from loopnest.model import evaluate, evaluate_batch
from loopnest.workload.layers import conv2d, fc

UNIT = {"read": 1.0, "write": 1.0, "update": 1.0}


def bw_arch(dram_bw: float = 2.0, buf_bw: float | None = None, rf: bool = False, pes: tuple[int, int] = (4, 1),
            rf_words: int = 16, buf_words: int = 4096) -> Architecture:
    levels = [Storage(name="DRAM", **{"class": "dram"}, energy_pj=UNIT, read_bandwidth=dram_bw, write_bandwidth=dram_bw),
              Storage(name="Buf", capacity_words=buf_words, energy_pj=UNIT, read_bandwidth=buf_bw, write_bandwidth=buf_bw,
                      fanout=Fanout(x=pes[0], y=pes[1], multicast=True, reduction=True))]
    if rf:
        levels.append(Storage(name="RF", capacity_words=rf_words, energy_pj=UNIT, read_bandwidth=1.0, write_bandwidth=1.0))
    return Architecture(name="bw", levels=tuple(levels), compute=Compute(energy_pj=1.0))


def test_hand_derived_fc_point():
    # FC N=1, M=4, C=8 (32 MACs); Buf keeps everything; M over 4 PEs, C temporal at Buf.
    # DRAM words (hand count): reads = inputs 8 + weights 32 = 40; writes = 4 output updates.
    # DRAM roof: 1 instance x (2 + 2) words/cycle; intensity 32 / 44 MACs/word.
    # Cycles: max(compute 8, DRAM reads 40/2 = 20, DRAM writes 4/2 = 2) = 20 -> 1.6 MACs/cycle.
    arch = bw_arch()
    layer = fc("fc", C=8, M=4, N=1)
    m = Mapping((LevelMapping(), LevelMapping(temporal={"C": 8}, spatial_x={"M": 4})))
    rec = evaluate(layer, arch, m).to_dict()
    p = layer_point(rec, arch, layer)
    assert p["intensity_macs_per_word"]["DRAM"] == pytest.approx(32 / 44)
    assert p["achieved_macs_per_cycle"] == pytest.approx(1.6)
    assert p["compulsory_intensity_macs_per_word"] == pytest.approx(32 / (8 + 32 + 4))
    assert compute_roof(arch) == 4
    assert [(r.level, r.bandwidth) for r in level_roofs(arch)] == [("DRAM", 4.0)]
    assert attainable(arch, p["intensity_macs_per_word"]) == pytest.approx(4 * 32 / 44)
    data = roofline([rec], arch, [layer])
    assert data["roofs"][0]["ridge_macs_per_word"] == pytest.approx(1.0)  # 4 MACs/cycle / 4 words/cycle


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), dram_bw=st.sampled_from([0.5, 2.0, 8.0]), buf_bw=st.sampled_from([None, 1.0, 4.0]),
       shape=st.sampled_from([(4, 4, 4, 3), (8, 2, 6, 1), (2, 8, 3, 3)]))
def test_no_achieved_point_lies_above_any_roof(seed, dram_bw, buf_bw, shape):
    m, c, p, r = shape
    layer = conv2d("conv", C=c, M=m, H=p + r - 1, W=p + r - 1, R=r, N=2)
    arch = bw_arch(dram_bw, buf_bw, rf=True, pes=(4, 2))
    ms = Mapspace(layer, arch)
    rng = np.random.default_rng(seed)
    keep = ms.keep_configs[rng.integers(len(ms.keep_configs))]
    idx = np.stack([rng.integers(len(o), size=64) for o in ms.options], axis=1)  # random tilings
    idx = idx[ms.fits(idx, keep)][:8]
    perm = np.stack([np.stack([rng.permutation(ms.D) for _ in range(ms.L)]) for _ in range(len(idx))])
    batch = ms.batch(idx, perm, keep)
    costs = evaluate_batch(layer, arch, batch)
    for b in np.flatnonzero(costs.valid):
        rec = evaluate(layer, arch, batch.mapping(int(b), layer)).to_dict()
        pt = layer_point(rec, arch, layer)
        assert pt["achieved_macs_per_cycle"] <= attainable(arch, pt["intensity_macs_per_word"]) * (1 + 1e-9)
        assert pt["intensity_macs_per_word"]["DRAM"] <= pt["compulsory_intensity_macs_per_word"] * (1 + 1e-9)
