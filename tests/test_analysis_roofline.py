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
    # One roof per port: read 2 words/cycle at 32 / 40 MACs/word, write 2 at 32 / 4.
    # Cycles: max(compute 8, DRAM reads 40/2 = 20, DRAM writes 4/2 = 2) = 20 -> 1.6 MACs/cycle,
    # exactly on the read roof (2 x 0.8); the summed roof (4 x 32/44 = 2.9) was not reachable.
    arch = bw_arch()
    layer = fc("fc", C=8, M=4, N=1)
    m = Mapping((LevelMapping(), LevelMapping(temporal={"C": 8}, spatial_x={"M": 4})))
    rec = evaluate(layer, arch, m).to_dict()
    p = layer_point(rec, arch, layer)
    assert p["intensity_macs_per_word"] == {"DRAM read": pytest.approx(0.8), "DRAM write": pytest.approx(8.0)}
    assert p["achieved_macs_per_cycle"] == pytest.approx(1.6)
    assert p["compulsory_intensity_macs_per_word"] == {"DRAM read": pytest.approx(32 / 40), "DRAM write": pytest.approx(32 / 4)}
    assert compute_roof(arch) == 4
    assert [(r.name, r.bandwidth) for r in level_roofs(arch)] == [("DRAM read", 2.0), ("DRAM write", 2.0)]
    assert attainable(arch, p["intensity_macs_per_word"]) == pytest.approx(1.6)  # the point is on its roof
    data = roofline([rec], arch, [layer])
    assert [r["ridge_macs_per_word"] for r in data["roofs"]] == [pytest.approx(2.0)] * 2  # 4 MACs/cycle / 2 words/cycle


def test_tpu_v1_ridge_point_is_the_papers():
    # Jouppi et al., ISCA 2017, Fig. 5: the ridge is "1350 multiply-accumulate operations per byte
    # of weight memory": 92 TOPS / 2 ops per MAC / 34 GB/s = 1,353 (hand: 65,536 MACs x 700 MHz /
    # 34e9 B/s = 1,349.3). The weight memory is only read: one read roof, no write roof.
    from loopnest.arch import load_arch

    arch = load_arch("tpu-v1")
    data = roofline([], arch)
    dram = [r for r in data["roofs"] if r["level"] == "DRAM"]
    assert [r["name"] for r in dram] == ["DRAM read"]
    assert dram[0]["ridge_macs_per_word"] == pytest.approx(65536 * 700e6 / 34e9)
    assert dram[0]["ridge_macs_per_word"] == pytest.approx(1350, rel=0.001)


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
        for port in ("DRAM read", "DRAM write"):  # no mapping moves less than every tensor once
            assert pt["intensity_macs_per_word"][port] <= pt["compulsory_intensity_macs_per_word"][port] * (1 + 1e-9)


def test_hand_derived_sparse_fc_point():
    # test_hand_derived_fc_point's layer and mapping, weights at density 0.5 kept in cp (4-bit
    # coordinates, 16-bit words) at DRAM, MACs skipped on zero weights (docs/sparsity.md, rules 1,
    # 3, 5). DRAM reads: inputs 8 + weights 16 values + 16 coordinates of 4/16 word = 28 words;
    # writes 4. Non-zero MACs 16. Cycles: max(compute 8 * 0.5 = 4, reads 28/2 = 14, writes 2) = 14
    # -> 16/14 non-zero MACs/cycle, on the read roof at 16/28 MACs/word (2 x 16/28 = 16/14).
    from loopnest.arch.spec import ComputeSparse, StorageSparse
    from loopnest.workload.density import Density, with_densities

    base = bw_arch()
    dram = base.levels[0].model_copy(update={"sparse": StorageSparse(formats={"weights": "cp"}, metadata_bits=4)})
    arch = base.model_copy(update={"levels": (dram, base.levels[1]),
                                   "compute": base.compute.model_copy(update={"sparse": ComputeSparse(skipping=("weights",))})})
    layer = with_densities(fc("fc", C=8, M=4, N=1), {"weights": Density.uniform(0.5)})
    m = Mapping((LevelMapping(), LevelMapping(temporal={"C": 8}, spatial_x={"M": 4})))
    rec = {**evaluate(layer, arch, m).to_dict(), "layer": "fc"}
    p = layer_point(rec, arch, layer)
    assert p["actual_macs"] == 16
    assert p["achieved_actual_macs_per_cycle"] == pytest.approx(16 / 14)
    assert p["actual_intensity_macs_per_word"] == {"DRAM read": pytest.approx(16 / 28), "DRAM write": pytest.approx(4.0)}
    assert attainable(arch, p["actual_intensity_macs_per_word"]) == pytest.approx(16 / 14)  # on its roof
    assert p["intensity_macs_per_word"]["DRAM read"] == pytest.approx(32 / 40)  # the algorithmic point as before


def test_roofline_command_takes_density():
    # eyeriss-rlc gates MACs on zero inputs (docs/sparsity.md, rule 5): at inputs=0.5 each layer's
    # non-zero MACs are half its MACs; a density outside [0, 1] is one error line naming --density.
    import json

    from typer.testing import CliRunner

    from loopnest.cli import app

    args = ["roofline", "lenet5", "--arch", "eyeriss-rlc", "--mode", "heuristic", "--jobs", "1", "--json"]
    r = CliRunner().invoke(app, [*args, "--density", "inputs=0.5"])
    assert r.exit_code == 0, r.output
    points = json.loads(r.stdout)["roofline"]["layers"]
    assert points and all(p["actual_macs"] == pytest.approx(p["macs"] / 2) for p in points)
    bad = CliRunner().invoke(app, [*args, "--density", "inputs=1.5"])
    assert bad.exit_code != 0 and "--density" in bad.output and "Traceback" not in bad.output
