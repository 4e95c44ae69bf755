"""AccelForge's Eyeriss written two ways, one layer searched exactly on each: the three PE
scratchpads as one partitioned level (examples/accelforge_eyeriss_partitioned.yaml) and as three
sibling levels, as AccelForge writes them (examples/accelforge_eyeriss_siblings.yaml).

Per form: the exact search's mode (proven or not), CPU seconds and peak RSS of a process of its
own (user + system, ``getrusage``: the machine may be shared, so not wall time), and the optimum
in pJ. The layer's values are 8-bit (weights, inputs, outputs), as in AccelForge's example. The
fanout constraints default to AccelForge's own (x reuses weights, y outputs, every PE used:
examples/accelforge_eyeriss_constraints.yaml); ``--split`` instead fixes one spatial split,
``--no-rules`` searches the sibling form without the sibling rules (search/siblings.py), and
``--timeout`` stops each search after that many seconds (wall). Last line:
``RESULT layer=... partitioned_pj=... partitioned_cpu_s=... siblings_pj=... siblings_cpu_s=...
siblings_proven=... same_optimum=...``

    python benchmarks/accelforge_eyeriss_forms.py [--layer layer1.0.conv2] [--split "x=P14,y=C4R3"]
                                                  [--no-rules] [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMS = ("partitioned", "siblings")


def _split_constraints(text: str):
    """``x=P14,y=C4R3`` -> constraints fixing the global buffer's fanout factors to those."""
    from loopnest.mapping.constraints import parse_constraints

    axes = {}
    for part in text.split(","):
        axis, factors = part.split("=")
        axes[axis.strip()] = {d: int(n) for d, n in re.findall(r"([A-Z])(\d+)", factors)}
    dims = "NMCPQRS"
    spatial = {a: {d: axes.get(a, {}).get(d, 1) for d in dims} for a in ("x", "y")}
    return parse_constraints([{"level": "GlobalBuffer", "spatial": spatial}], "--split")


def _child(args) -> dict:
    from loopnest.arch import load_arch
    from loopnest.mapping.constraints import load_constraints
    from loopnest.search import mapper
    from loopnest.workload import load_network
    from loopnest.workload.precision import Precision

    if args.no_rules:
        mapper.canonical_rests = lambda space: None
    net = load_network("resnet50")
    layer = next(p for p in net.layers if p.name == args.layer)
    layer = Precision.parse("weights=8,inputs=8,outputs=8").apply(layer)
    arch = load_arch(ROOT / f"examples/accelforge_eyeriss_{args.child}.yaml")
    cons = _split_constraints(args.split) if args.split else load_constraints(ROOT / "examples/accelforge_eyeriss_constraints.yaml")
    r = mapper.search_layer(layer, arch, cons, "energy", mode="exact", timeout_s=args.timeout)
    use = resource.getrusage(resource.RUSAGE_SELF)
    return {"form": args.child, "proven": r.mode == "exact" and r.result is not None and not r.timed_out,
            "energy_pj": r.result.energy_pj if r.result else None, "cpu_s": use.ru_utime + use.ru_stime,
            "rss_mb": use.ru_maxrss / 1024, "notes": r.notes, "reason": r.reason,
            "mapping": r.result.to_dict()["mapping"] if r.result else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="layer1.0.conv2", help="a ResNet-50 layer (batch 1)")
    ap.add_argument("--split", default=None, help='one spatial split of the 14 x 12 fanout, e.g. "x=P14,y=C4R3"')
    ap.add_argument("--no-rules", action="store_true", help="the sibling form without the sibling rules (as before them)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds (wall) per search (default: none)")
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)  # one form, JSON on stdout
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args)))
        return
    rows = {}
    print(f"{'form':12s} {'proven':>7s} {'CPU s':>8s} {'peak RSS':>9s}  energy (pJ)")
    for form in args.forms.split(","):
        cmd = [sys.executable, __file__, "--child", form, "--layer", args.layer]
        for opt, val in (("--split", args.split), ("--timeout", args.timeout)):
            if val is not None:
                cmd += [opt, str(val)]
        cmd += ["--no-rules"] if args.no_rules else []
        run = subprocess.run(cmd, capture_output=True, text=True)
        sys.stderr.write(run.stderr)
        if run.returncode != 0:
            print(f"{form:12s} failed (exit {run.returncode})")
            continue
        r = rows[form] = json.loads(run.stdout.strip().splitlines()[-1])
        energy = f"{r['energy_pj']:.12g}" if r["energy_pj"] is not None else f"no mapping ({r['reason']})"
        print(f"{form:12s} {'yes' if r['proven'] else 'no':>7s} {r['cpu_s']:8.1f} {r['rss_mb']:6.0f} MB  {energy}"
              + (f"  ({'; '.join(r['notes'])})" if r["notes"] else ""), flush=True)
        print(f"  mapping: {json.dumps(r['mapping'])}", flush=True)
    part, sib = rows.get("partitioned", {}), rows.get("siblings", {})
    same = (part.get("energy_pj") is not None and sib.get("energy_pj") is not None
            and abs(part["energy_pj"] - sib["energy_pj"]) <= 1e-9 * part["energy_pj"])
    print(f"RESULT layer={args.layer} split={args.split or 'accelforge'} rules={'off' if args.no_rules else 'on'} "
          f"partitioned_pj={part.get('energy_pj')} partitioned_proven={part.get('proven')} "
          f"partitioned_cpu_s={part.get('cpu_s', float('nan')):.1f} siblings_pj={sib.get('energy_pj')} "
          f"siblings_proven={sib.get('proven')} siblings_cpu_s={sib.get('cpu_s', float('nan')):.1f} "
          f"siblings_rss_mb={sib.get('rss_mb', float('nan')):.0f} same_optimum={same}")
    forms = args.forms.split(",")
    if any(rows.get(f, {}).get("energy_pj") is None for f in forms):
        sys.exit(1)  # a form failed or found no mapping (e.g. a --split the layer cannot take): said above


if __name__ == "__main__":
    main()
