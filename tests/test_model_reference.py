"""Timeloop reference results (Timeloop/Accelergy public tutorial exercises, 8-bit words,
one MAC level below the innermost buffer), as quoted in loopnest issue 4. Exact counts."""

from model_helpers import arch, conv1d, mapping

from loopnest.model import evaluate


def counts(result, level):
    return {(role, action): result.count(level, role, action)
            for role in ("inputs", "weights", "outputs") for action in ("reads", "fills", "updates")}


def test_conv1d_weight_and_output_stationary_give_the_published_counts():
    # Exercise 1: Conv1D R=3, P=16; MainMemory: R3 / Buffer: P16 (WS) and MainMemory: P16 / Buffer: R3 (OS).
    problem, a = conv1d(R=3, P=16), arch("MainMemory", "Buffer")
    for m in (mapping({"t": {"R": 3}}, {"t": {"P": 16}}), mapping({"t": {"P": 16}}, {"t": {"R": 3}})):
        r = evaluate(problem, a, m)
        buf, mm = counts(r, "Buffer"), counts(r, "MainMemory")
        assert (buf["weights", "reads"], buf["weights", "fills"]) == (48, 3)
        assert (buf["inputs", "reads"], buf["inputs", "fills"]) == (48, 18)
        assert (buf["outputs", "reads"], buf["outputs", "updates"]) == (32, 48)
        assert (mm["weights", "reads"], mm["inputs", "reads"], mm["outputs", "updates"]) == (3, 18, 16)
        assert r.cycles == 48


def test_conv1d_with_output_channels_untiled_and_tiled():
    # Exercise 2: K=32, R=3, P=16 (1,536 MACs). Untiled: MainMemory K32 P16 (P innermost), Buffer R3.
    problem, a = conv1d(K=32), arch("MainMemory", "Buffer")
    assert problem.macs == 1536
    r = evaluate(problem, a, mapping({"t": {"K": 32, "P": 16}, "order": ["K", "P"]}, {"t": {"R": 3}}))
    buf, mm = counts(r, "Buffer"), counts(r, "MainMemory")
    assert (buf["weights", "reads"], buf["weights", "fills"]) == (1536, 96)
    assert (buf["inputs", "reads"], buf["inputs", "fills"]) == (1536, 576)
    assert (buf["outputs", "reads"], buf["outputs", "updates"]) == (1024, 1536)
    assert (mm["weights", "reads"], mm["inputs", "reads"], mm["outputs", "updates"]) == (96, 576, 512)
    # Tiled: MainMemory K16 P16, Buffer K2 R3: input fills and MainMemory input reads drop to 288.
    t = evaluate(problem, a, mapping({"t": {"K": 16, "P": 16}, "order": ["K", "P"]}, {"t": {"K": 2, "R": 3}}))
    tb, tm = counts(t, "Buffer"), counts(t, "MainMemory")
    assert tb["inputs", "fills"] == tm["inputs", "reads"] == 288
    assert {k: v for k, v in tb.items() if k != ("inputs", "fills")} == {k: v for k, v in buf.items() if k != ("inputs", "fills")}
    assert (tm["weights", "reads"], tm["outputs", "updates"]) == (96, 512)


def test_three_levels_and_bypass():
    # Exercise 3: DRAM, GlobalBuffer, RegisterFile; GLB: K16 P16 / RF: K2 R3.
    problem, a = conv1d(K=32), arch("DRAM", "GLB", "RF")
    glb = {"t": {"K": 16, "P": 16}, "order": ["K", "P"]}
    r = evaluate(problem, a, mapping({}, glb, {"t": {"K": 2, "R": 3}}))
    d, g, f = counts(r, "DRAM"), counts(r, "GLB"), counts(r, "RF")
    assert (d["weights", "reads"], d["inputs", "reads"], d["outputs", "updates"]) == (96, 18, 512)
    assert (g["weights", "reads"], g["weights", "fills"]) == (96, 96)
    assert (g["inputs", "reads"], g["inputs", "fills"]) == (288, 18)
    assert g["outputs", "updates"] == 512
    assert (f["weights", "reads"], f["weights", "fills"]) == (1536, 96)
    assert (f["inputs", "reads"], f["inputs", "fills"]) == (1536, 288)
    assert (f["outputs", "reads"], f["outputs", "updates"]) == (1024, 1536)
    # Bypass: GLB keeps only weights and inputs, RF keeps only outputs.
    b = evaluate(problem, a, mapping({}, glb | {"keep": ["weights", "inputs"]}, {"t": {"K": 2, "R": 3}, "keep": ["outputs"]}))
    assert b.count("GLB", "weights", "reads") == b.count("GLB", "inputs", "reads") == 1536
