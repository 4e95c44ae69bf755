"""Drain reads (``Storage.drain_reads``, AccelForge's convention): a child level reads each output
value it writes back to its parent. Hand-derived counts; the default (Timeloop's) is unchanged."""

import pytest

from loopnest.arch.spec import Fanout
from loopnest.model import evaluate
from loopnest.workload.layers import fc
from model_helpers import arch, mapping


def _drain_arch(*drain: str):
    a = arch("DRAM", "Buf", "PE", fanout=Fanout(x=4, reduction=True))
    return a.model_copy(update={"levels": tuple(lv.model_copy(update={"drain_reads": lv.name in drain})
                                                for lv in a.levels)})


def test_drain_reads_charge_the_child_for_each_value_it_writes_back():
    # 4 PEs reduce C (4 on the array, 2 in each PE) for 2 outputs: each PE drains its 2 partial
    # sums once (4 x 2 = 8 values, reduced on the way to Buf's 2 updates); Buf drains 2 to DRAM.
    # Without drain reads the PE reads 8 (each of its 16 updates but the 8 first writes is
    # preceded by a read) and Buf reads none; with them PE 8 + 8 and Buf 0 + 2.
    problem, m = fc("g", C=8, M=2, N=1), mapping({}, {"t": {"M": 2}, "x": {"C": 4}}, {"t": {"C": 2}})
    reads = lambda a: [lv["counts_words"]["outputs"]["reads"] for lv in evaluate(problem, a, m).to_dict()["levels"]]
    assert reads(_drain_arch()) == [0, 0, 8]  # Timeloop's convention (the default)
    assert reads(_drain_arch("PE")) == [0, 0, 16]
    assert reads(_drain_arch("PE", "Buf")) == [0, 2, 16]
    off, on = evaluate(problem, _drain_arch(), m), evaluate(problem, _drain_arch("PE", "Buf"), m)
    # 10 more reads at unit energy per 8-bit word; fc's 16-bit values are 2 words each
    assert on.energy_pj - off.energy_pj == pytest.approx(10 * 2 * 1.0)
    # the other counts do not move
    for kind in ("fills", "updates", "network"):
        assert (getattr(on.costs.counts, kind) == getattr(off.costs.counts, kind)).all()


def test_drain_reads_on_the_tpu_v1_and_its_resident_outputs():
    from loopnest.arch import load_arch
    from loopnest.validation.tpu_v1 import schedule

    # FC 512 x 512, batch 8 on tpu-v1's WS schedule: C and M tiles of 256, C stepped innermost in
    # the unified buffer, so the accumulators write each of the 8 x 512 = 4096 outputs back once
    tpu, problem = load_arch("tpu-v1"), fc("f", C=512, M=512, N=8, bits=8)

    def out_reads(*drain):
        a = tpu.model_copy(update={"levels": tuple(lv.model_copy(update={"drain_reads": lv.name in drain})
                                                   for lv in tpu.levels)})
        r = evaluate(problem, a, schedule(problem, a)).to_dict()
        return {lv["name"]: lv["counts_words"]["outputs"]["reads"] for lv in r["levels"]}

    base = out_reads()
    assert out_reads("Accumulators") == base | {"Accumulators": base["Accumulators"] + 4096}
    assert out_reads("UnifiedBuffer") == base  # resident outputs: nothing is written back to DRAM


def test_drain_reads_do_not_make_final_outputs_partial_sums():
    # fc M=2, C=4, 16-bit outputs, 32-bit accumulator, 8-bit words (2 words per output, 4 per psum).
    # The PE accumulates C (psums); Buf takes each final output once (2 first writes, no read-back)
    # and drains it to DRAM: with drain_reads its 2 reads are of 16-bit outputs, not psums:
    # Buf's output energy = (2 updates + 2 drain reads) x 2 words x 1 pJ = 8 pJ (as psums: 16).
    from loopnest.workload.precision import Precision

    problem = Precision(accumulator=32).apply(fc("f", C=4, M=2))
    m = mapping({}, {"t": {"M": 2}}, {"t": {"C": 4}})
    r = evaluate(problem, _drain_arch("Buf"), m)
    assert r.count("Buf", "outputs", "reads") == 2 and r.count("Buf", "outputs", "updates") == 2
    assert r.costs.psum[0].tolist() == [False, False, True]
    assert r.costs.storage_energy_pj[0, 1, 2] == pytest.approx(8.0)
