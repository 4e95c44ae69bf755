"""TPU v1 (Jouppi et al., ISCA 2017): the six production applications' TOPS on ``tpu-v1``, from
the TPU's fixed schedule (what ``loopnest validate --suite tpu-v1`` checks) and, with ``--mapper``,
from the mapper (objective cycles, each distinct layer shape searched once), against the
measured TOPS of the paper's Table 3. 1 MAC = 2 ops.

    python benchmarks/tpu_v1_apps.py [--apps mlp0,mlp1] [--mapper] [--jobs 2]

Last line: ``RESULT apps=... ours_tops=... measured_tops=... ratio=...`` (comma-separated, in
``--apps`` order; the mapper's TOPS where ``--mapper``, else the schedule's).
"""

from __future__ import annotations

import argparse
import time

from loopnest.arch import load_arch
from loopnest.search.network import map_network
from loopnest.validation.tpu_v1 import MEASURED_TOPS, predicted_tops
from loopnest.workload.zoo import tpu


def mapper_tops(name: str, jobs: int) -> float:
    arch = load_arch("tpu-v1")
    net = map_network(tpu.build(name), arch, arch.dataflow, objective="cycles", jobs=jobs)
    if net.unmapped:
        raise SystemExit(f"{name}: layers not mapped: {[lo.name for lo in net.unmapped]}")
    return 2 * sum(lo.result.macs for lo in net.mapped) / sum(lo.result.cycles for lo in net.mapped) * arch.clock_mhz * 1e6 / 1e12


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", default=",".join(MEASURED_TOPS), help="comma-separated of " + ", ".join(MEASURED_TOPS))
    ap.add_argument("--mapper", action="store_true", help="also map every layer (minutes per application)")
    ap.add_argument("--jobs", type=int, default=1)
    opts = ap.parse_args()
    apps = opts.apps.split(",")
    bad = [a for a in apps if a not in MEASURED_TOPS]
    if bad:
        ap.error(f"--apps: unknown {bad}; choose from {', '.join(MEASURED_TOPS)}")
    ours = []
    print(f"{'app':6} {'batch':>5} {'schedule':>9} {'mapper':>9} {'measured':>9} {'ratio':>6} {'mapper s':>9}")
    for a in apps:
        sched = predicted_tops(a)
        t0 = time.perf_counter()
        mapped = mapper_tops(a, opts.jobs) if opts.mapper else None
        secs = time.perf_counter() - t0
        best = mapped if mapped is not None else sched
        ours.append(best)
        print(f"{a:6} {tpu.BATCH[a]:>5} {sched:>9.3f} {'-' if mapped is None else f'{mapped:.3f}':>9} "
              f"{MEASURED_TOPS[a]:>9.1f} {best / MEASURED_TOPS[a]:>6.3f} {secs if opts.mapper else 0:>9.1f}", flush=True)
    print(f"RESULT apps={','.join(apps)} ours_tops={','.join(f'{x:.3f}' for x in ours)} "
          f"measured_tops={','.join(str(MEASURED_TOPS[a]) for a in apps)} "
          f"ratio={','.join(f'{x / MEASURED_TOPS[a]:.3f}' for x, a in zip(ours, apps))}")


if __name__ == "__main__":
    main()
