"""Fuzz suite (seeded, bounded for CI): malformed architecture (YAML and JSON), mapping, layer spec,
constraint and ONNX files thrown at the CLI in-process. Every run either succeeds with a valid
result or fails with exactly one stderr line and a non-zero exit; never a traceback, never past
the time limit, never past the memory limit. The long unseeded campaign is
benchmarks/fuzz_campaign.py."""

import random
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from fuzz_inputs import KINDS, SMALL_MB, invalid_result, make_case, write_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loopnest.cli import app

SECONDS = 120.0  # per case, in-process: a hang, not a slow case (the slowest take about 4 s unloaded, 75 s seen at load 7 on 2 cores)
PEAK_MB = 300  # Python allocations per case


def check(case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        args = write_case(case, Path(folder))
        tracemalloc.start()
        t0 = time.perf_counter()
        r = CliRunner(env={"LOOPNEST_MAX_FILE_MB": str(SMALL_MB)}).invoke(app, args)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    what = f"{case[0]} {args[:3]}"
    assert r.exception is None or isinstance(r.exception, SystemExit), (what, repr(r.exception))
    assert "Traceback" not in r.output, what
    assert seconds < SECONDS and peak < PEAK_MB, (what, seconds, peak)
    if r.exit_code == 0:
        assert invalid_result(r.stdout, args) is None, (what, invalid_result(r.stdout, args))
    else:
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (what, r.exit_code, r.stderr[:500])


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_malformed_inputs_fail_cleanly(kind, seed):
    check(make_case(random.Random(seed), kind))
