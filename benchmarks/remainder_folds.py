"""Remainder folds on a non-systolic array: what they save and what they cost. Each network is
mapped on the preset twice in one process, one shape at a time (``map_network(jobs=1)``, auto
mode, the preset's own dataflow), without and with ``remainder_folds`` (docs/mapper.md,
"Remainder and padded folds"): the network's energy (or the objective's metric) each way, the
layers where a fold won, and the CPU seconds of each run (this process's user + system time: the
machine may be shared).

    python benchmarks/remainder_folds.py [--arch eyeriss] [--nets alexnet:4,resnet50:1]
                                         [--objective energy]

Last line: ``RESULT arch=... objective=... <net>_b<batch>_energy_off_uj=... ..._on_uj=...
..._cpu_off_s=... ..._cpu_on_s=... ..._cpu_ratio=... ..._folded_layers=...`` per network.
Run it niced on a shared machine.
"""

from __future__ import annotations

import argparse
import time

from loopnest.search.api import map_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="eyeriss")
    ap.add_argument("--nets", default="alexnet:4,resnet50:1", help="name:batch, comma separated")
    ap.add_argument("--objective", default="energy")
    args = ap.parse_args()
    fields = {"arch": args.arch, "objective": args.objective}
    for spec in args.nets.split(","):
        name, batch = spec.split(":")
        runs = {}
        for on in (False, True):
            t0 = time.process_time()  # this process only: jobs=1 searches in it
            net = map_network(name, args.arch, batch=int(batch), objective=args.objective, jobs=1, remainder_folds=on)
            runs[on] = (time.process_time() - t0, net)
        (cpu_off, off), (cpu_on, on) = runs[False], runs[True]
        folded = [lo.name for lo in on.layers if any("remainder folds" in n for n in lo.search.notes)]
        e_off = sum(lo.result.energy_pj for lo in off.mapped) / 1e6
        e_on = sum(lo.result.energy_pj for lo in on.mapped) / 1e6
        c_off = int(sum(lo.result.cycles for lo in off.mapped))
        c_on = int(sum(lo.result.cycles for lo in on.mapped))
        print(f"{name} batch {batch} on {args.arch} ({args.objective}): energy {e_off:,.1f} -> {e_on:,.1f} uJ "
              f"({e_on / e_off - 1:+.1%}), cycles {c_off:,} -> {c_on:,}, CPU {cpu_off:.1f} -> {cpu_on:.1f} s "
              f"({cpu_on / cpu_off:.2f}x); a fold won on {len(folded)} of {len(on.layers)} layers: {', '.join(folded)}",
              flush=True)
        key = f"{name}_b{batch}"
        fields.update({f"{key}_energy_off_uj": f"{e_off:.1f}", f"{key}_energy_on_uj": f"{e_on:.1f}",
                       f"{key}_cycles_off": c_off, f"{key}_cycles_on": c_on,
                       f"{key}_cpu_off_s": f"{cpu_off:.1f}", f"{key}_cpu_on_s": f"{cpu_on:.1f}",
                       f"{key}_cpu_ratio": f"{cpu_on / cpu_off:.2f}", f"{key}_folded_layers": len(folded)})
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
