"""Energy-aware pruning speed: a digits CNN pruned under a 1-point accuracy budget on a preset,
layers in order of their mapped energy, fine-tuning included (target under 2 minutes on 2 cores).

The trained weights come from the cache (trained first if missing; reported apart as train_s).
The pruning runs in one process (the mapper in-process for the unpruned and the pruned network,
fine-tuning on one thread): wall_s is its wall time and cpu_s its CPU time (on a shared machine
wall_s exceeds cpu_s by the time other processes held the cores). Last line:
``RESULT model=... arch=... method=... wall_s=... cpu_s=... candidates=... nonzero_weights=...
weights=... nonzero_weight_macs=... macs=... start_accuracy=... final_accuracy=... start_energy_pj=...
final_energy_pj=... energy_reduction=... train_s=...`` (energies at the networks' weight densities).

    python benchmarks/codesign_prune.py [--model digits-cnn4] [--arch eyeriss|eyeriss-skipw] [--method energy]
"""

from __future__ import annotations

import argparse
import time

from loopnest.arch import load_arch
from loopnest.codesign.models import digits_workload
from loopnest.codesign.pruning import run_prune


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits-cnn4")
    ap.add_argument("--arch", default="eyeriss")
    ap.add_argument("--method", default="energy")
    ap.add_argument("--accuracy-drop", type=float, default=1.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    module, _, data = digits_workload(args.model)
    train_s = time.perf_counter() - t0
    arch = load_arch(args.arch)
    w, c = time.perf_counter(), time.process_time()
    study, _ = run_prune(args.method, module, args.model, data, arch, args.accuracy_drop, dataflow=arch.dataflow)
    wall_s, cpu_s = time.perf_counter() - w, time.process_time() - c
    s, f = study["start"], study["final"]
    key = "filters_kept_fraction" if args.method == "structured" else "sparsity"
    print(f"{key} per layer: {study[key]}")
    print(f"non-zero weights {sum(s['nonzero_weights'].values()):,} -> {sum(f['nonzero_weights'].values()):,}, "
          f"MACs with a non-zero weight {s['nonzero_weight_macs']:,} -> {f['nonzero_weight_macs']:,}, "
          f"test accuracy {s['accuracy_test']:.4f} -> {f['accuracy_test']:.4f}")
    print(f"RESULT model={args.model} arch={args.arch} method={args.method} wall_s={wall_s:.1f} cpu_s={cpu_s:.1f} "
          f"candidates={len(study['steps'])} nonzero_weights={sum(f['nonzero_weights'].values())} weights={f['weights']} "
          f"nonzero_weight_macs={f['nonzero_weight_macs']} macs={f['macs']} start_accuracy={s['accuracy_test']:.4f} "
          f"final_accuracy={f['accuracy_test']:.4f} start_energy_pj={s['energy_pj']:.6g} final_energy_pj={f['energy_pj']:.6g} "
          f"energy_reduction={s['energy_pj'] / f['energy_pj']:.3f} train_s={train_s:.2f}")


if __name__ == "__main__":
    main()
