"""Huge dimensions: seconds to search a one-dimension-huge FC layer (C = size, M = 1), from the
mapspace's divisors to the best mapping, or to the refusal of a mapspace too large to enumerate.

Sizes: 1e6, 1e8, 1e9 (the fuzz campaign's 78 s and over 300 s before divisors came from the
prime factorization), the prime 2^61 - 1, and 897612484786617600 (103,680 divisors). Last line:
``RESULT arch=... mode=... max_s=... mapped=... refused=...``

    python benchmarks/huge_dimension.py [--arch eyeriss] [--mode auto]
"""

from __future__ import annotations

import argparse
import time

from loopnest.arch import load_arch
from loopnest.search.mapper import search_layer
from loopnest.workload.layers import fc

SIZES = (10**6, 10**8, 10**9, 2**61 - 1, 897612484786617600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="eyeriss")
    ap.add_argument("--mode", default="auto")
    args = ap.parse_args()
    arch = load_arch(args.arch)
    worst, mapped, refused = 0.0, 0, 0
    for n in SIZES:
        t0 = time.perf_counter()
        s = search_layer(fc("huge", C=n, M=1), arch, mode=args.mode)
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        mapped += s.result is not None
        refused += s.result is None
        print(f"C={n}: {dt:.2f} s, {s.mode}, " + (f"{s.result.energy_pj:.4g} {arch.energy_units}" if s.result else f"unmapped: {s.reason}"))
    print(f"RESULT arch={args.arch} mode={args.mode} max_s={worst:.2f} mapped={mapped} refused={refused}")


if __name__ == "__main__":
    main()
