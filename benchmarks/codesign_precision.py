"""Co-design speed: one accuracy evaluation of a digits CNN on the whole test split (target
under 1 s) and the 6-point precision study of one network on a preset, mapping included
(target under 60 s on 2 cores).

The trained weights come from the cache (trained first if missing; that time is reported apart
as train_s). Times are wall seconds of this process and its mapper workers. Last line:
``RESULT model=... arch=... eval_s=... eval_median_s=... study_s=... points=... train_s=... float_accuracy=...``

    python benchmarks/codesign_precision.py [--model digits-cnn4] [--arch eyeriss] [--bits 2,3,4,6,8,16] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

from loopnest.arch import load_arch
from loopnest.codesign.accuracy import accuracy
from loopnest.codesign.models import digits_workload
from loopnest.codesign.precision_study import PrecisionSpec, run_precision_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits-cnn4")
    ap.add_argument("--arch", default="eyeriss")
    ap.add_argument("--bits", default="2,3,4,6,8,16")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    t0 = time.perf_counter()
    module, network, data = digits_workload(args.model)
    train_s = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t = time.perf_counter()
        acc = accuracy(module, data.test)
        times.append(time.perf_counter() - t)
    print(f"accuracy of {args.model} on {len(data.test)} test images: {acc:.4f}; first evaluation {times[0]:.3f} s, "
          f"median of 5 {statistics.median(times):.3f} s")

    arch = load_arch(args.arch)
    spec = PrecisionSpec(tuple(int(b) for b in args.bits.split(",")))
    t = time.perf_counter()
    study = run_precision_study(spec, module, network, data, arch, dataflow=arch.dataflow, jobs=args.jobs).to_dict()
    study_s = time.perf_counter() - t
    for p in study["points"]:
        print(f"{p['bits']:>3} bits: accuracy {p['accuracy']:.4f}  energy {p['energy_pj']:.4g} {study['energy_units']}  "
              f"cycles {p['cycles']:,.0f}")
    print(f"study: {len(spec.bits)} points (and the float32 reference) in {study_s:.2f} s with {args.jobs} mapper processes")
    print(f"RESULT model={args.model} arch={args.arch} eval_s={times[0]:.3f} eval_median_s={statistics.median(times):.3f} "
          f"study_s={study_s:.2f} points={len(spec.bits)} train_s={train_s:.2f} float_accuracy={acc:.4f}")


if __name__ == "__main__":
    main()
