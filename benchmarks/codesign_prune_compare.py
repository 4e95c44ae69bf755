"""Energy-aware against magnitude pruning at equal accuracy on the shipped digits networks: each
method swept over accuracy-drop budgets (seeded, one short fine-tune per candidate), every point's
test accuracy and modeled energy (sparse costs, at the measured weight densities), the methods
matched at equal test accuracy (rule: ``loopnest.codesign.prune_compare``).

Writes each network's study (the ``codesign prune-compare --json`` export) to ``--out DIR`` and
prints, per network and target drop, the energy reduction of each method and their ratio. Last
line: ``RESULT arch=... models=... cpu_s=... wall_s=... wins=K/N ratio_min=... ratio_max=...``
(wins: matched rows where energy-aware reaches less energy than magnitude; ratio: magnitude
energy over energy-aware energy).

    python benchmarks/codesign_prune_compare.py [--arch eyeriss-skipw] [--models digits-cnn4,digits-cnn2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from loopnest.arch import load_arch
from loopnest.codesign.models import digits_workload
from loopnest.codesign.prune_compare import run_prune_compare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="eyeriss-skipw")
    ap.add_argument("--models", default="digits-cnn2,digits-cnn4,digits-cnn8,digits-k5,digits-k7,digits-res6,digits-dws")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    arch = load_arch(args.arch)
    ratios, wins = [], 0
    w, c = time.perf_counter(), time.process_time()
    for name in args.models.split(","):
        module, _, data = digits_workload(name)
        study = run_prune_compare(module, name, data, arch, dataflow=arch.dataflow)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}-{args.arch}.json").write_text(json.dumps(study, indent=1))
        u = study["unpruned"]
        print(f"{name}: unpruned {100 * u['accuracy_test']:.2f} %, {u['energy_pj']:.4g} pJ")
        for r in study["matched"]:
            m, e = r["magnitude"], r["energy"]
            print(f"  drop <= {r['target_drop_points']:g}: magnitude {m['energy_reduction']:.2f}x ({100 * m['accuracy_test']:.2f} %, "
                  f"budget {m['budget_points']}), energy-aware {e['energy_reduction']:.2f}x ({100 * e['accuracy_test']:.2f} %, "
                  f"budget {e['budget_points']}), magnitude/energy-aware {r['energy_ratio']:.3f}", flush=True)
            ratios.append(r["energy_ratio"])
            wins += r["energy_ratio"] > 1
    print(f"RESULT arch={args.arch} models={args.models} cpu_s={time.process_time() - c:.1f} wall_s={time.perf_counter() - w:.1f} "
          f"wins={wins}/{len(ratios)} ratio_min={min(ratios):.3f} ratio_max={max(ratios):.3f}")


if __name__ == "__main__":
    main()
