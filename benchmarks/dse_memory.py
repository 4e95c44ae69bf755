"""Sweep memory against the number of points: the same small sweep (the throughput benchmark's
spec: a 3-layer CNN on 2x2 weight-stationary arrays, one point per global-buffer size) run with
``--small`` and then ``--large`` points, each in a fresh process with one job (the points are
mapped in that process, so its peak holds the mapper's working set and everything the driver
keeps). Rows stream to the SQLite store as they finish, so the peak should not grow with the
number of points. Last line: ``RESULT small=... large=... small_max_rss_mb=... large_max_rss_mb=... growth_pct=...``

    python benchmarks/dse_memory.py [--small 10] [--large 40] [--model digits-cnn2] [--base simple-ws]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from dse_throughput import SPEC

RUN = """
import resource, sys
from pathlib import Path
from loopnest.dse.run import run_sweep
from loopnest.dse.spec import load_sweep
from loopnest.dse.store import Store
spec, base = load_sweep(Path(sys.argv[1]))
with Store(Path(sys.argv[2])) as st:
    run = run_sweep(spec, base, st, jobs=1)
    assert len(st.rows()) == run.computed, "a row was lost"
print(run.computed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak_mb(points: int, model: str, base: str, tmp: Path) -> tuple[int, float]:
    """(points computed, peak resident MB) of one sweep of ``points`` points in a fresh process."""
    spec = tmp / f"sweep{points}.yaml"
    array = "".join(f"  - {{path: levels.GlobalBuffer.fanout.{d}, values: [2]}}\n" for d in "xy")
    spec.write_text(SPEC.format(base=base, values=[256 * (i + 1) for i in range(points)], array=array, model=model,
                                mode="exact"))
    out = subprocess.run([sys.executable, "-c", RUN, str(spec), str(tmp / f"store{points}.sqlite")],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=10)
    ap.add_argument("--large", type=int, default=40)
    ap.add_argument("--model", default="digits-cnn2")
    ap.add_argument("--base", default="simple-ws")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (n1, m1), (n2, m2) = (peak_mb(n, args.model, args.base, Path(tmp)) for n in (args.small, args.large))
    print(f"{n1} points: peak {m1:.1f} MB; {n2} points: peak {m2:.1f} MB")
    print(f"RESULT small={n1} large={n2} small_max_rss_mb={m1:.1f} large_max_rss_mb={m2:.1f} "
          f"growth_pct={(m2 / m1 - 1) * 100:.1f}")


if __name__ == "__main__":
    main()
