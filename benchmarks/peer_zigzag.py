"""Peer benchmark: loopnest's mapper vs ZigZag (PyPI zigzag-dse) on identical layers, side by side.

Not part of CI. ZigZag runs in its own virtual environment (``bash benchmarks/peers/setup_zigzag.sh``)
as a subprocess (benchmarks/peers/zigzag_runner.py, JSON on stdout); loopnest runs in-process on the
same layers, on the same core described as loopnest YAML (benchmarks/peers/zigzag_<core>.yaml), with
ZigZag's fixed spatial unrolling imposed. Repeated layer shapes are searched once by both tools and
counted with their multiplicity in the network totals.

Prints a per-layer table (seconds and best energy per tool, energy ratio loopnest / ZigZag) and ends
with one ``RESULT key=value ...`` line. Energies come from each tool's own cost model: read
docs/peers.md before reading the ratio as mapper quality.

    python benchmarks/peer_zigzag.py --model resnet50 --core eyeriss_like
    python benchmarks/peer_zigzag.py --model alexnet --core tpu_like --save-zigzag /tmp/zz.json
    python benchmarks/peer_zigzag.py --model alexnet --core tpu_like --zigzag-json /tmp/zz.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
sys.path.insert(0, str(PEERS))  # zigzag_mapping.py
CORES = ("tpu_like", "eyeriss_like")
DEFAULT_VENV = Path.home() / ".cache/loopnest-peers/zigzag"
# The heuristic's effort per search (search_layer's knobs): the mapper's defaults, or a lighter
# one for cores searched over many chain orders (eyeriss_like: 18 per layer), see run_loopnest.
EFFORT = {"default": {}, "light": {"top": 2, "sample": 500, "rest_sample": 20_000}}


BITS = 8  # every operand and partial sum, on both sides: ZigZag's runner is told the same, the cores' words are 8 bits


def unique_layers(model: str, batch: int) -> list[tuple[object, int]]:
    """The network's MAC layers at BITS bits (the zoo's are 16: twice the words on these cores)
    with repeated shapes merged: (first layer of a shape, count)."""
    from loopnest.workload import load_network
    from loopnest.workload.precision import Precision, apply_precision

    seen: dict[tuple, list] = {}
    for p in apply_precision(load_network(model, batch), Precision(weights=BITS, inputs=BITS, outputs=BITS)).layers:
        if p.kind not in ("conv", "fc"):
            raise SystemExit(f"peer_zigzag: layer {p.name!r} is a {p.kind!r} layer; ZigZag is fed convs and FCs only")
        key = (tuple(sorted(p.dims.items())), p.attrs.get("stride", (1, 1)), p.attrs.get("dilation", (1, 1)))
        seen.setdefault(key, [p, 0])[1] += 1
    return [(p, n) for p, n in seen.values()]


def largest_divisor(n: int, most: int) -> int:
    return max(d for d in range(1, min(n, most) + 1) if n % d == 0)


def layer_request(p, array: tuple[int, int] | None) -> dict:
    """A layer in the runner's input form (loopnest dimension names). With ``array`` (the MAC
    array's D1 x D2), the spatial mapping is the core's K on D1, C on D2 at the largest factors
    that divide the layer, so that ZigZag unrolls no fraction of a loop."""
    req = {"name": p.name, "dims": dict(p.dims), "stride": list(p.attrs.get("stride", (1, 1))),
           "dilation": list(p.attrs.get("dilation", (1, 1)))}
    if array is not None:
        req["spatial"] = {"D1": ["K", largest_divisor(p.dims["M"], array[0])],
                          "D2": ["C", largest_divisor(p.dims["C"], array[1])]}
    return req


def run_zigzag(core: str, layers: list, array: tuple[int, int] | None, venv: Path, lpf_limit: int,
               timeout: float) -> dict:
    """ZigZag on the layers, in its venv; the runner's JSON plus the subprocess wall time."""
    python = venv / "bin/python"
    if not python.exists():
        raise SystemExit(f"peer_zigzag: no ZigZag venv at {venv}; create it with: bash benchmarks/peers/setup_zigzag.sh")
    request = {"core": core, "bits": BITS, "lpf_limit": lpf_limit,
               "layers": [layer_request(p, array) for p, _ in layers]}
    start = time.perf_counter()
    try:
        done = subprocess.run([str(python), str(PEERS / "zigzag_runner.py")], input=json.dumps(request),
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"peer_zigzag: ZigZag did not finish {len(layers)} layers in {timeout:.0f} s (--timeout)")
    if done.returncode != 0:
        raise SystemExit(f"peer_zigzag: ZigZag failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    result["process_wall_s"] = time.perf_counter() - start
    return result


def core_arch(core: str):
    """The loopnest form of a ZigZag core (benchmarks/peers/zigzag_<core>.yaml)."""
    from loopnest.arch import load_arch

    return load_arch(PEERS / f"zigzag_{core}.yaml")


def zigzag_constraints(chain, zz_layer: dict):
    """ZigZag's mapspace on one chain order of the core, as loopnest constraints: every level keeps
    exactly its tensors (ZigZag never bypasses a memory) and the fanout unrolls M (ZigZag K) on x
    and C on y by the factors ZigZag used, or up to the array size where ZigZag used a fraction
    (zigzag_<core>_constraints.yaml states the same for the YAML's own chain)."""
    from loopnest.mapping.constraints import parse_constraints

    used = {d: f for d, f in zz_layer["spatial"].items() if f != 1}
    if set(used) - {"K", "C"}:
        raise SystemExit(f"peer_zigzag: ZigZag unrolled {sorted(used)} on layer {zz_layer['name']}; expected K and C only")
    entries = []
    for lv in chain.levels:
        entry = {"level": lv.name, "keep": list(lv.keeps)}
        if lv.fanout is not None:
            rule = (lambda d, n: int(used[d]) if float(used.get(d, 1)).is_integer() else f"<={n}")
            entry["spatial"] = {"x": {"M": rule("K", lv.fanout.x)}, "y": {"C": rule("C", lv.fanout.y)}}
        entries.append(entry)
    return parse_constraints(entries, f"ZigZag's mapspace of {zz_layer['name']}")


def zigzag_mapping_in_loopnest(problem, arch, zz_layer: dict) -> tuple[float | None, str]:
    """loopnest's energy (pJ) of the mapping ZigZag chose, or None and the reason it has no loopnest form."""
    from zigzag_mapping import chain_for, to_loopnest

    from loopnest.mapping.mapping import MappingError
    from loopnest.model import evaluate

    chain = chain_for(zz_layer, arch)
    mapping = chain if isinstance(chain, str) else to_loopnest(zz_layer, chain)
    if isinstance(mapping, str):
        return None, mapping
    try:
        return evaluate(problem, chain, mapping).energy_pj, ""
    except MappingError as e:
        return None, str(e)


def loopnest_mapper():
    """The mapper's entry point ``search_layer(problem, arch, constraints, objective, mode)``, or
    None while loopnest.search has not landed."""
    try:
        from loopnest.search.mapper import search_layer
    except ImportError:
        return None
    return search_layer


def run_loopnest(problem, zz_layer: dict, arch, search, mode: str, all_chains: bool, effort: str) -> dict:
    """loopnest's best mapping of one layer on ZigZag's mapspace: every chain order of the core
    (``zigzag_mapping.chains``; only the YAML's with ``all_chains`` False) under
    ``zigzag_constraints``. In exact mode each chain order after the first is searched only
    below the best energy found so far (``bound``: what cannot beat it is pruned unvisited; a
    chain order with nothing at most the bound returns no mapping, proven). With the light
    heuristic effort (EFFORT) every chain order is screened unrefined and the best one searched
    again with the refinement. Returns wall and CPU seconds (this process's), energy (pJ),
    mappings evaluated, and whether the energy is proven optimal over every chain order (exact
    mode, no search fell back to the heuristic) with the first reason it is not."""
    from zigzag_mapping import chains

    start, cpu, best, evaluated = time.perf_counter(), time.process_time(), (None, None), 0
    proven, why = mode == "exact", "" if mode == "exact" else "heuristic mode"
    knobs = EFFORT[effort] if mode == "heuristic" else {}
    screen = {**knobs, "sweeps": 0} if knobs else {}
    for chain in chains(arch) if all_chains else [arch]:
        bound = {"bound": best[0]} if mode == "exact" and best[0] is not None else {}
        found = search(problem, chain, zigzag_constraints(chain, zz_layer), objective="energy", mode=mode,
                       **screen, **bound)
        evaluated += found.evaluated
        if mode == "exact" and (found.mode != "exact" or found.timed_out) and proven:
            proven, why = False, f"{[lv.name for lv in chain.levels]}: {'; '.join(found.notes)}"
        if found.result is not None and (best[0] is None or found.result.energy_pj < best[0]):
            best = (found.result.energy_pj, chain)
    if screen and best[1] is not None:
        found = search(problem, best[1], zigzag_constraints(best[1], zz_layer), objective="energy", mode=mode, **knobs)
        evaluated += found.evaluated
        best = (min(best[0], found.result.energy_pj), best[1])
    return {"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu, "energy_pj": best[0],
            "evaluated": evaluated, "proven": proven, "why": why}


class _Serial:
    """The executor interface, run in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    map = staticmethod(map)


def _num(v: float | None, width: int, fmt: str = ".4e") -> str:
    """A right-aligned number, or '-' for a figure that does not exist."""
    return f"{v:{width}{fmt}}" if v is not None else f"{'-':>{width}}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="resnet50", help="loopnest zoo name (alexnet, resnet50, ...)")
    ap.add_argument("--core", default="eyeriss_like", choices=CORES)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--layers", type=int, default=None, help="only the first N unique layers")
    ap.add_argument("--only", help="only these unique layers (comma-separated names, as printed: the first layer of a shape)")
    ap.add_argument("--zigzag-venv", type=Path, default=Path(os.environ.get("ZIGZAG_VENV", DEFAULT_VENV)))
    ap.add_argument("--lpf-limit", type=int, default=6, help="ZigZag LOMA loop-prime-factor limit (its default 6)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed to the ZigZag subprocess")
    ap.add_argument("--spatial", choices=("divisors", "zigzag"), default="divisors",
                    help="divisors: K and C unrolled by the largest factors dividing the layer (one mapspace "
                         "for both tools); zigzag: ZigZag's own mapping file, fractional unrolling allowed")
    ap.add_argument("--loopnest-mode", choices=("exact", "heuristic"), default="exact")
    ap.add_argument("--effort", choices=tuple(EFFORT), default="default",
                    help="heuristic effort; light: every chain order searched with 2 outer choices, 500 pairs each, "
                         "20,000 sampled rests and no refinement, then the best chain order refined")
    ap.add_argument("--jobs", type=int, default=1, help="loopnest processes, one layer each (ZigZag runs in one)")
    ap.add_argument("--skip-loopnest", action="store_true", help="ZigZag and the cross-check only, no loopnest search")
    ap.add_argument("--chains", choices=("all", "yaml"), default="all",
                    help="all: search every equivalent chain order of the core (ZigZag's whole mapspace); "
                         "yaml: only the order of the core's YAML file")
    ap.add_argument("--zigzag-json", type=Path, help="reuse a ZigZag result saved by --save-zigzag")
    ap.add_argument("--save-zigzag", type=Path, help="write ZigZag's result JSON here")
    args = ap.parse_args(argv)

    layers = unique_layers(args.model, args.batch)
    if args.only:
        names = args.only.split(",")
        unknown = sorted(set(names) - {p.name for p, _ in layers})
        if unknown:
            raise SystemExit(f"peer_zigzag: --only: no unique layer {unknown[0]!r} in {args.model}; "
                             f"allowed: {', '.join(p.name for p, _ in layers)}")
        layers = [(p, n) for p, n in layers if p.name in names]
    layers = layers[: args.layers]
    arch = core_arch(args.core)
    zz = zigzag_result(args, layers, arch)
    report(args, layers, arch, zz, None if args.skip_loopnest else loopnest_mapper())


def zigzag_result(args: argparse.Namespace, layers: list, arch) -> dict:
    """ZigZag's results: run now, or read back from --zigzag-json (checked to be this run's)."""
    if args.zigzag_json:
        try:
            zz = json.loads(args.zigzag_json.read_text())
        except (OSError, ValueError) as e:
            raise SystemExit(f"peer_zigzag: --zigzag-json {args.zigzag_json}: {e}")
        zz["overhead_s"] = zz.get("process_wall_s", 0.0) - sum(z["wall_s"] for z in zz["layers"])
        saved = {z["name"]: z for z in zz["layers"]}  # --layers N or --only: this run's layers of a longer run
        names = list(saved)
        mode = zz.get("spatial_mode", "zigzag")
        if zz["core"] != args.core or any(p.name not in saved for p, _ in layers) or mode != args.spatial:
            raise SystemExit(f"peer_zigzag: {args.zigzag_json} holds core {zz['core']!r}, --spatial {mode}, "
                             f"layers {names[:3]}...: not this run's")
        zz["layers"] = [saved[p.name] for p, _ in layers]
        return zz
    fan = next(lv.fanout for lv in arch.levels if lv.fanout is not None)
    array = (fan.x, fan.y) if args.spatial == "divisors" else None
    zz = run_zigzag(args.core, layers, array, args.zigzag_venv, args.lpf_limit, args.timeout)
    zz["spatial_mode"] = args.spatial
    zz["overhead_s"] = zz["process_wall_s"] - sum(z["wall_s"] for z in zz["layers"])
    if args.save_zigzag:
        args.save_zigzag.write_text(json.dumps(zz))
    return zz


def report(args: argparse.Namespace, layers: list, arch, zz: dict, search) -> None:
    """The per-layer table, the totals and the RESULT line."""
    how = "skipped" if args.skip_loopnest else f"{args.loopnest_mode} over {args.chains} chain orders"
    how += f" ({args.effort} effort)" if args.loopnest_mode == "heuristic" and not args.skip_loopnest else ""
    print(f"{args.model} (batch {args.batch}) on ZigZag's {args.core} core, spatial {args.spatial}, loopnest "
          f"{how}, {len(layers)} unique layers "
          f"(x: occurrences). zz: ZigZag {zz['version']} LOMA lpf_limit={zz['lpf_limit']}, energy objective; "
          f"zz@ln: ZigZag's mapping costed by loopnest's model; ln: loopnest's mapper (energy ratios: ln/zz, "
          f"ln/@ln = ln / zz@ln, the mapper comparison in one cost model)")
    head = (f"{'layer':<21}{'x':>3}{'zz s':>8}{'zz evals':>9}{'zz pJ':>12}{'zz@ln pJ':>12}{'@ln/zz':>8}"
            f"{'ln cpu s':>9}{'proven':>7}{'ln pJ':>12}{'ln/zz':>8}{'ln/@ln':>8}")
    print(head)
    print("-" * len(head))
    tot = {"zz_wall": 0.0, "zz_cpu": 0.0, "zz_e": 0.0, "zz_ln_e": 0.0, "ln_wall": 0.0, "ln_cpu": 0.0, "ln_e": 0.0,
           "ln_evals": 0, "proven": 0}
    zz_ln_all, ln_all, notes = True, search is not None, []
    absent = "skipped" if args.skip_loopnest else "pending"  # pending: loopnest.search not in the tree
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) if search and args.jobs > 1 else _Serial() as pool:
        task = partial(run_loopnest, arch=arch, search=search, mode=args.loopnest_mode, all_chains=args.chains == "all",
                       effort=args.effort)
        found = pool.map(task, [p for p, _ in layers], zz["layers"]) if search else [None] * len(layers)
        for (p, n), z, ln in zip(layers, zz["layers"], found):
            e_zl, why = zigzag_mapping_in_loopnest(p, arch, z)
            if why:
                notes.append(f"  {p.name}: ZigZag's mapping not costed by loopnest: {why}")
            e_ln = ln and ln["energy_pj"]
            if ln and e_ln is None:
                notes.append(f"  {p.name}: loopnest found no mapping")
            if ln and not ln["proven"] and args.loopnest_mode == "exact":
                notes.append(f"  {p.name}: loopnest's energy not proven optimal: {ln['why']}")
            zz_ln_all &= e_zl is not None
            ln_all &= e_ln is not None
            tot["zz_wall"] += z["wall_s"]
            tot["zz_cpu"] += z["cpu_s"]
            tot["zz_e"] += n * z["energy_pj"]
            tot["zz_ln_e"] += n * (e_zl or 0.0)
            tot["ln_wall"] += ln["seconds"] if ln else 0.0
            tot["ln_cpu"] += ln["cpu_s"] if ln else 0.0
            tot["proven"] += bool(ln and ln["proven"])
            tot["ln_e"] += n * (e_ln or 0.0)
            tot["ln_evals"] += ln["evaluated"] if ln else 0
            print(f"{p.name[:20]:<21}{n:>3}{z['cpu_s']:8.2f}{z['evaluated']:9d}{z['energy_pj']:12.4e}{_num(e_zl, 12)}"
                  f"{_num(e_zl and e_zl / z['energy_pj'], 8, '.4f')}"
                  f"{_num(ln['cpu_s'], 9, '.2f') if ln else absent:>9}{('yes' if ln['proven'] else 'no') if ln else '-':>7}"
                  f"{_num(e_ln, 12)}{_num(e_ln and e_ln / z['energy_pj'], 8, '.4f')}"
                  f"{_num(e_ln and e_zl and e_ln / e_zl, 8, '.4f')}", flush=True)
    tot["ln_s"] = time.perf_counter() - start
    if notes:
        print("\n".join(notes))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"ZigZag: {sum(z['evaluated'] for z in zz['layers'])} mappings evaluated in {tot['zz_cpu']:.1f} CPU s, "
          f"{tot['zz_wall']:.1f} wall s (+ {zz['overhead_s']:.1f} s venv start and imports); "
          f"load average {load:.2f} on {os.cpu_count()} cores")
    if search:
        print(f"loopnest: {tot['ln_evals']} mappings evaluated in {tot['ln_s']:.1f} wall s on {args.jobs} "
              f"process(es) ({tot['ln_wall']:.1f} wall s, {tot['ln_cpu']:.1f} CPU s summed over the layers' searches; "
              f"proven optimal on {tot['proven']} of {len(layers)} shapes)")
    ln_s, ln_cpu = (f"{tot['ln_s']:.3f}", f"{tot['ln_cpu']:.2f}") if ln_all else (absent, absent)
    proven = f"{tot['proven']}/{len(layers)}" if search else absent
    ln_e = f"{tot['ln_e']:.6e}" if ln_all else absent
    zz_ln = f"{tot['zz_ln_e']:.6e}" if zz_ln_all else "partial"
    print(f"RESULT tool=zigzag-dse-{zz['version']} model={args.model} arch={args.core} spatial={args.spatial} "
          f"loopnest_mode={args.loopnest_mode} effort={args.effort} jobs={args.jobs} zigzag_seconds={tot['zz_wall']:.2f} "
          f"zigzag_cpu_seconds={tot['zz_cpu']:.2f} loopnest_seconds={ln_s} loopnest_cpu_seconds={ln_cpu} "
          f"loopnest_proven={proven} zigzag_energy_pj={tot['zz_e']:.6e} "
          f"loopnest_energy_pj={ln_e} zigzag_mapping_loopnest_energy_pj={zz_ln}")


if __name__ == "__main__":
    sys.exit(main())
