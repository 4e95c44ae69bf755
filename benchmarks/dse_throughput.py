"""Sweep throughput: points per minute of a small sweep (a 3-layer CNN on 2x2 weight-stationary
arrays, exact mapper), and the store's overhead per point (one committed row insert, WAL mode),
measured apart on synthetic rows so that it is not hidden by the mapper's time.

Times are wall seconds of this process and its workers. Last line:
``RESULT points=... jobs=... sweep_s=... points_per_min=... store_ms_per_point=... overhead_pct=...``

    python benchmarks/dse_throughput.py [--points 8] [--jobs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from loopnest.dse.run import run_sweep, sweep_points
from loopnest.dse.spec import load_sweep
from loopnest.dse.store import COLUMNS, Store

SPEC = """\
name: bench
base: simple-ws
axes:
  - path: levels.GlobalBuffer.capacity_words
    values: {values}
  - path: levels.GlobalBuffer.fanout.x
    values: [2]
  - path: levels.GlobalBuffer.fanout.y
    values: [2]
workloads: [{{model: digits-cnn2}}]
mapper: {{mode: exact}}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "bench.yaml"
        spec_path.write_text(SPEC.format(values=[512 * (i + 1) for i in range(args.points)]))
        spec, base = load_sweep(spec_path)
        t0 = time.perf_counter()
        with Store(Path(tmp) / "bench.sqlite") as st:
            run = run_sweep(spec, base, st, jobs=args.jobs)
        sweep_s = time.perf_counter() - t0
        row = {c: None for c in COLUMNS} | {"params": "{}", "point": 0, "model": "m", "batch": 1, "status": "ok"}
        n = 200
        with Store(Path(tmp) / "rows.sqlite") as st:
            t0 = time.perf_counter()
            for i in range(n):
                st.add(row | {"key": f"{i:064x}"})
            store_ms = (time.perf_counter() - t0) / n * 1e3
        key_ms = _key_ms(spec, base)
    per_point_ms = sweep_s / run.computed * 1e3 * args.jobs  # worker time per point
    print(f"{run.computed} points in {sweep_s:.1f} s on {args.jobs} processes; store {store_ms:.2f} ms/row, "
          f"key hashing {key_ms:.3f} ms/point")
    print(f"RESULT points={run.computed} jobs={args.jobs} sweep_s={sweep_s:.2f} "
          f"points_per_min={run.computed / sweep_s * 60:.1f} store_ms_per_point={store_ms + key_ms:.3f} "
          f"overhead_pct={(store_ms + key_ms) / per_point_ms * 100:.3f}")


def _key_ms(spec, base) -> float:
    pts = sweep_points(spec, base)
    t0 = time.perf_counter()
    for p in pts:
        p.key
    return (time.perf_counter() - t0) / len(pts) * 1e3


if __name__ == "__main__":
    main()
