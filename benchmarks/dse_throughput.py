"""Sweep throughput: the same small sweep run on the local executor and on the Dask executor (a
LocalCluster of as many workers) in one process, with design points per wall minute and per CPU
second, and the store's overhead per point (one committed row insert in WAL mode, plus the
point's content hash), measured apart on synthetic rows so that the mapper's time does not hide it.

CPU seconds are this process's plus its finished child processes' (``getrusage``: the local pool's
workers and the Dask workers are joined before they are read), so they include each executor's
start-up (worker processes importing loopnest, Dask's scheduler) as well as the mapping. Both
executors must give the same rows, bit for bit (checked; a mismatch exits 1).

The default sweep is small (a 3-layer CNN on 2x2 weight-stationary arrays, exact mapper) so that
it finishes in about a minute on 2 shared cores; the issue's figure (ResNet-50 on an Eyeriss-like
base) is ``--model resnet50 --base eyeriss --mode auto --side 0 --no-dask`` (about 8 CPU s per
point). Last line:
``RESULT points=... jobs=... local_points_per_min=... local_points_per_cpu_s=... dask_points_per_min=...
dask_points_per_cpu_s=... store_ms_per_point=... overhead_pct=...``

    python benchmarks/dse_throughput.py [--points 8] [--jobs 2] [--model digits-cnn2] [--base simple-ws] [--mode exact] [--side 2]
                                        [--no-dask]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import tempfile
import time
from pathlib import Path

from loopnest.dse.run import run_sweep, sweep_points
from loopnest.dse.spec import load_sweep
from loopnest.dse.store import COLUMNS, Store

SPEC = """\
name: bench
base: {base}
axes:
  - path: levels.GlobalBuffer.capacity_words
    values: {values}
{array}workloads: [{{model: {model}}}]
mapper: {{mode: {mode}}}
"""


def cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed_run(spec, base, store: Path, jobs: int, executor: str) -> tuple[int, float, float, list[dict]]:
    """(points computed, wall s, CPU s, rows sorted by key) of one sweep into a new store."""
    w0, c0 = time.perf_counter(), cpu_s()
    with Store(store) as st:
        run = run_sweep(spec, base, st, jobs=jobs, executor=executor)
        wall, cpu = time.perf_counter() - w0, cpu_s() - c0
        rows = sorted(st.rows(), key=lambda r: r["key"])
    return run.computed, wall, cpu, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=8, help="global-buffer sizes swept (one point each)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes of each executor")
    ap.add_argument("--model", default="digits-cnn2")
    ap.add_argument("--base", default="simple-ws")
    ap.add_argument("--mode", default="exact", help="mapper mode")
    ap.add_argument("--side", type=int, default=2, help="PE array side (0: the base's own array)")
    ap.add_argument("--no-dask", action="store_true", help="measure the local executor only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "bench.yaml"
        values = [512 * (i + 1) for i in range(args.points)]
        array = "".join(f"  - {{path: levels.GlobalBuffer.fanout.{d}, values: [{args.side}]}}\n" for d in "xy") if args.side else ""
        spec_path.write_text(SPEC.format(base=args.base, values=values, array=array, model=args.model, mode=args.mode))
        spec, base = load_sweep(spec_path)
        results = {"local": timed_run(spec, base, Path(tmp) / "local.sqlite", args.jobs, "local")}
        if args.no_dask:
            print("dask: not measured (--no-dask)")
        elif importlib.util.find_spec("distributed") is not None:
            results["dask"] = timed_run(spec, base, Path(tmp) / "dask.sqlite", args.jobs, "dask")
        else:
            print("dask: not measured (pip install 'loopnest[dse]')")
        store_ms = store_ms_per_row(Path(tmp) / "rows.sqlite")
        key_ms = key_ms_per_point(spec, base)
    fields = {"points": results["local"][0], "jobs": args.jobs}
    for name, (n, wall, cpu, _) in results.items():
        print(f"{name}: {n} points in {wall:.1f} s wall, {cpu:.1f} CPU s ({args.jobs} workers): "
              f"{n / wall * 60:.1f} points/min, {n / cpu:.3f} points per CPU s")
        fields |= {f"{name}_points_per_min": f"{n / wall * 60:.1f}", f"{name}_points_per_cpu_s": f"{n / cpu:.3f}"}
    if "dask" in results and results["dask"][3] != results["local"][3]:
        print("dask rows differ from the local executor's", file=sys.stderr)
        sys.exit(1)
    n, _, cpu, _ = results["local"]
    per_point_ms = cpu / n * 1e3  # CPU per point, mapping included
    print(f"store {store_ms:.2f} ms/row, key hashing {key_ms:.3f} ms/point; rows identical across executors: "
          f"{'yes' if 'dask' in results else 'not checked'}")
    fields |= {"store_ms_per_point": f"{store_ms + key_ms:.3f}",
               "overhead_pct": f"{(store_ms + key_ms) / per_point_ms * 100:.3f}"}
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))


def store_ms_per_row(path: Path, n: int = 200) -> float:
    """Milliseconds to commit one synthetic row."""
    row = {c: None for c in COLUMNS} | {"params": "{}", "point": 0, "model": "m", "batch": 1, "status": "ok"}
    with Store(path) as st:
        t0 = time.perf_counter()
        for i in range(n):
            st.add(row | {"key": f"{i:064x}"})
        return (time.perf_counter() - t0) / n * 1e3


def key_ms_per_point(spec, base) -> float:
    """Milliseconds to hash one point's content key."""
    pts = sweep_points(spec, base)
    t0 = time.perf_counter()
    for p in pts:
        p.key
    return (time.perf_counter() - t0) / len(pts) * 1e3


if __name__ == "__main__":
    main()
