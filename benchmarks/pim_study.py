"""PIM study speed: `loopnest codesign pim-study` with its defaults (five digits CNNs under noise
at five sigmas x three seeds, at five weight widths and four ADC widths; eleven networks mapped on
crossbars at seven array sizes, with both ADC models; the same eleven networks on the digital
preset beside them, whose loop-nest searches run in worker processes) (target: under 10 minutes
on 2 cores).

The trained weights come from the cache (trained first if missing; reported apart as train_s).
wall_s is the study's wall time, cpu_s this process's CPU time (not the workers'). Last line:
``RESULT arch=... digital=... noise=... wall_s=... cpu_s=... accuracy_points=... mappings=... train_s=... claims=...``

    python benchmarks/pim_study.py [--arch pim-crossbar] [--digital digital-same-area|none] [--noise fixed|rescaled]
"""

from __future__ import annotations

import argparse
import time

from loopnest.arch import load_arch
from loopnest.codesign.models import digits_workload
from loopnest.codesign.pim_study import PimStudySpec, run_pim_study
from loopnest.workload.zoo import build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="pim-crossbar")
    ap.add_argument("--digital", default="digital-same-area", help="the digital preset beside the PIM one; none to leave it out")
    ap.add_argument("--noise", default="fixed")
    args = ap.parse_args()
    spec = PimStudySpec(noise=args.noise)
    t0 = time.perf_counter()
    for name in spec.networks:
        digits_workload(name)
    train_s = time.perf_counter() - t0
    w, c = time.perf_counter(), time.process_time()
    out = run_pim_study(spec, load_arch(args.arch), digital=None if args.digital == "none" else load_arch(args.digital))
    wall_s, cpu_s = time.perf_counter() - w, time.process_time() - c
    points = len(spec.networks) * (len(spec.sigma_values) * len(spec.seeds) + len(spec.weight_bits))
    mappings = sum(len(build(n).layers) for n in spec.networks + spec.zoo) * (len(spec.array_sizes) + 1)
    verdicts = ",".join(f"{k}:{v['verdict'].replace(' ', '_')}" for k, v in out["claims"].items())
    print(f"RESULT arch={args.arch} digital={args.digital} noise={args.noise} wall_s={wall_s:.1f} cpu_s={cpu_s:.1f} accuracy_points={points} "
          f"mappings={mappings} train_s={train_s:.1f} claims={verdicts}")


if __name__ == "__main__":
    main()
