"""The ISCA 2016 dataflow comparison against its claim (Chen, Emer, Sze, ISCA 2016, as presented in
Sze et al.'s CICC 2017 tutorial, seed 000: AlexNet, 256 PEs, batch 16, equal area; "RS uses 1.4x -
2.5x lower energy than the other dataflows" on CONV layers, at least 1.3x on FC layers). Each
dataflow runs on its member of the equal-area family (docs/arch.md derives the storage allocation
from the paper's bounds); too slow for ``loopnest validate``, so measured here.

    PYTHONPATH=src python benchmarks/isca2016_dataflows.py [--pes 256] [--batch 16] [--mode auto]

Prints per dataflow the energy per MAC of CONV and FC layers over RS's beside the claim, and
whether each ratio is inside it. Last line:
``RESULT conv_min=... conv_max=... fc_min=... conv_inside=k/5 fc_inside=k/5 cpu_s=...``
"""

from __future__ import annotations

import argparse
import time

from loopnest.analysis.dataflow_compare import CLAIM, compare_dataflows
from loopnest.workload import load_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="alexnet")
    ap.add_argument("--pes", type=int, default=256)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--mode", default="auto", choices=("auto", "exact", "heuristic"))
    args = ap.parse_args()
    t0 = time.process_time()
    out = compare_dataflows(load_network(args.model, batch=args.batch), pes=args.pes, mode=args.mode, jobs=1)
    cpu_s = time.process_time() - t0
    lo, hi = CLAIM["conv_range"]
    fc_floor = CLAIM["fc_min"]
    print(f"{args.model}, {args.pes} PEs, batch {args.batch}, mode {args.mode}; energy per MAC over RS's")
    print(f"{'dataflow':8s} {'CONV':>6s} (claim {lo:g}-{hi:g})  {'FC':>6s} (claim >= {fc_floor:g})")
    conv = {df: r for df, r in out["ratios"]["conv"].items() if df != "RS"}
    fc = {df: r for df, r in out["ratios"]["fc"].items() if df != "RS"}
    for df in conv:
        c_in, f_in = lo <= conv[df] <= hi, fc[df] >= fc_floor
        print(f"{df:8s} {conv[df]:6.2f} {'inside ' if c_in else 'OUTSIDE'}          {fc[df]:6.2f} {'inside' if f_in else 'OUTSIDE'}")
    conv_inside = sum(lo <= r <= hi for r in conv.values())
    fc_inside = sum(r >= fc_floor for r in fc.values())
    print(f"RESULT conv_min={min(conv.values()):.3f} conv_max={max(conv.values()):.3f} fc_min={min(fc.values()):.3f} "
          f"conv_inside={conv_inside}/{len(conv)} fc_inside={fc_inside}/{len(fc)} cpu_s={cpu_s:.1f}")


if __name__ == "__main__":
    main()
