"""Peer benchmark: loopnest's mapper vs nn-dataflow 2.1 (PyPI nn-dataflow, Stanford's TETRIS/TANGRAM
scheduler) on AlexNet at batch 1, on nn-dataflow's example design, side by side in one run.

Not part of CI. nn-dataflow runs in its own virtual environment (docs/peers.md, "loopnest vs
nn-dataflow") as a subprocess of its own command-line tool, twice: with its analytical loop-blocking
solver (``--solve-loopblocking``) and with its default exhaustive loop-blocking search. loopnest
runs in a subprocess too (this script with ``--worker``), on the same design written as a loopnest
architecture (benchmarks/peers/nndataflow_rs16.yaml) and the zoo's AlexNet, whose layers are
checked against nn-dataflow's (benchmarks/peers/nndataflow_layers.py). CPU seconds of each tool are
its child process's (user + system, interpreter start-up and imports included).

Prints per layer each tool's energy (nn-dataflow's two towers summed) and its breakdown, then one
``RESULT key=value ...`` line. The two cost models differ (docs/peers.md): read it before reading
a ratio as mapper quality.

    python benchmarks/peer_nndataflow.py --venv /work/venvs/nndataflow
    python benchmarks/peer_nndataflow.py --itcn 0            # array bus free on both sides
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
sys.path.insert(0, str(PEERS))  # nndataflow_layers.py
DEFAULT_VENV = Path(os.environ.get("NNDATAFLOW_VENV", Path.home() / ".cache/loopnest-peers/nndataflow"))
ARCH_YAML = PEERS / "nndataflow_rs16.yaml"
# The design, as nn_dataflow_search.py's options: one node, 16 x 16 PEs, 512 B RF, 128 KiB buffer,
# 16-bit words, costs per word DRAM / buffer / array bus / RF, and per MAC.
DESIGN = ["--batch", "1", "--nodes", "1", "1", "--array", "16", "16", "--regf", "512", "--gbuf", "131072",
          "--word", "16", "--op-cost", "1", "--unit-idle-cost", "0"]
COSTS = {"DRAM": 200.0, "GBUF": 6.0, "REGF": 1.0}
PARTS = ("DRAM", "GBUF", "ITCN", "REGF", "MAC")  # nn-dataflow's cost terms, in its MemHierEnum order


def child_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_child(cmd: list[str], what: str, timeout: float) -> tuple[str, float, float]:
    """stdout, CPU seconds and wall seconds of one child process."""
    cpu0, t0 = child_cpu_s(), time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"peer_nndataflow: {what} did not finish in {timeout:.0f} s (--timeout)")
    if done.returncode != 0:
        raise SystemExit(f"peer_nndataflow: {what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout, child_cpu_s() - cpu0, time.perf_counter() - t0


def run_nndataflow(venv: Path, itcn: float, solve: bool, timeout: float) -> dict:
    """nn-dataflow's schedule of AlexNet: per zoo layer its cost and cost terms, and the run's CPU s."""
    from nndataflow_layers import NNDATAFLOW_NET, ZOO_TO_TOWERS

    python = venv / "bin/python"
    if not python.exists():
        raise SystemExit(f"peer_nndataflow: no nn-dataflow venv at {venv} (--venv or NNDATAFLOW_VENV); create it with: "
                         f"python3.11 -m venv {venv} && {venv}/bin/pip install -r {PEERS / 'nndataflow-requirements.txt'}")
    cmd = [str(python), "-m", "nn_dataflow.tools.nn_dataflow_search", NNDATAFLOW_NET, *DESIGN,
           "--hier-cost", str(COSTS["DRAM"]), str(COSTS["GBUF"]), str(itcn), str(COSTS["REGF"]), "-p", "1"]
    if solve:
        cmd.append("--solve-loopblocking")
    out, cpu, wall = run_child(cmd, "nn-dataflow" + (" --solve-loopblocking" if solve else ""), timeout)
    res = json.loads(out)
    scheds = res["schedules"]
    hier = [COSTS["DRAM"], COSTS["GBUF"], itcn, COSTS["REGF"]]
    layers = {}
    for zoo, (towers, _) in ZOO_TO_TOWERS.items():
        parts = dict.fromkeys(PARTS, 0.0)
        cost = 0.0
        for t in towers:
            s = scheds[t][0]
            cost += s["cost"]
            for i, name in enumerate(PARTS[:4]):
                parts[name] += hier[i] * sum(s["access"][i])
            parts["MAC"] += s["cost_op"]
            if s["cost_noc"] or s["cost_static"]:
                raise SystemExit(f"peer_nndataflow: nn-dataflow charged NoC or static cost on {t}; expected none on one node")
        layers[zoo] = {"energy": cost, "parts": parts}
    return {"version": res["version"], "cpu_s": cpu, "wall_s": wall, "total_cost": res["total_cost"],
            "layers": layers}


def loopnest_arch(itcn: float):
    """benchmarks/peers/nndataflow_rs16.yaml with the array bus at ``itcn`` per word per PE."""
    from loopnest.arch.loader import parse_arch, read_spec

    spec = read_spec(ARCH_YAML)
    for lv in spec["levels"]:
        if "fanout" in lv:
            lv["fanout"]["energy_pj"] = itcn
    return parse_arch(spec, source=str(ARCH_YAML))


def worker(itcn: float, dataflow: str, mode: str, layer_timeout: float | None) -> None:
    """loopnest's search of every zoo AlexNet layer (run in a child process): JSON on stdout."""
    from nndataflow_layers import mismatches

    from loopnest.mapping.dataflows import dataflow_constraints
    from loopnest.search.mapper import search_layer
    from loopnest.workload import load_network

    arch = loopnest_arch(itcn)
    layers = load_network("alexnet", 1).layers
    bad = mismatches(layers)
    if bad:
        raise SystemExit("peer_nndataflow: the zoo's AlexNet is not nn-dataflow's:\n" + "\n".join(bad))
    out = {}
    for p in layers:
        t0 = time.process_time()
        cons = dataflow_constraints("rs", p, arch) if dataflow == "rs" else None
        found = search_layer(p, arch, cons, "energy", mode=mode, timeout_s=layer_timeout)
        r = found.result
        if r is None:
            raise SystemExit(f"peer_nndataflow: loopnest found no mapping of {p.name} ({found.mode}): {'; '.join(found.notes)}")
        lv = r.energy_by_level_pj()
        parts = {"DRAM": lv["DRAM"], "GBUF": lv["GlobalBuffer"], "ITCN": lv["GlobalBuffer.network"],
                 "REGF": lv["RF"], "MAC": lv["MAC"]}
        out[p.name] = {"energy": r.energy_pj, "parts": parts, "mode": found.mode, "cpu_s": time.process_time() - t0,
                       "timed_out": bool(found.timed_out), "mapping": r.mapping.to_dict(arch, p)}
    json.dump(out, sys.stdout)


def run_loopnest(args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--itcn", str(args.itcn),
           "--dataflow", args.dataflow, "--mode", args.mode]
    if args.layer_timeout is not None:
        cmd += ["--layer-timeout", str(args.layer_timeout)]
    out, cpu, wall = run_child(cmd, "loopnest", args.timeout)
    return {"cpu_s": cpu, "wall_s": wall, "layers": json.loads(out)}


def report(args: argparse.Namespace, solve: dict, search: dict, ln: dict) -> None:
    names = list(ln["layers"])
    print(f"AlexNet batch 1 on nndataflow-rs16 (16x16 PEs, RF 512 B, buffer 128 KiB; per 16-bit word DRAM 200, "
          f"buffer 6, array bus {args.itcn:g}, RF 1; MAC 1). Energies in pJ (normalized units); "
          f"nn-dataflow's two towers summed per layer. loopnest: dataflow {args.dataflow}, mode {args.mode}.")
    print(f"{'layer':6s} {'nd solve':>11s} {'nd search':>11s} {'loopnest':>11s} {'ln/nd':>7s} {'ln mode':>9s} {'ln cpu s':>8s}")
    tot = {"solve": 0.0, "search": 0.0, "ln": 0.0}
    above = []
    for n in names:
        a, b, c = solve["layers"][n]["energy"], search["layers"][n]["energy"], ln["layers"][n]["energy"]
        best = min(a, b)
        tot["solve"] += a
        tot["search"] += b
        tot["ln"] += c
        if c > best:
            above.append(n)
        lnl = ln["layers"][n]
        print(f"{n:6s} {a:11.4e} {b:11.4e} {c:11.4e} {c / best:7.4f} {lnl['mode']:>9s} {lnl['cpu_s']:8.2f}"
              + ("  (timed out: best so far)" if lnl["timed_out"] else ""))
    print(f"{'total':6s} {tot['solve']:11.4e} {tot['search']:11.4e} {tot['ln']:11.4e} "
          f"{tot['ln'] / min(tot['solve'], tot['search']):7.4f}   (MAC layers; nn-dataflow's pooling layers left out)")
    print("\nCost terms, nn-dataflow's search (nd) and loopnest (ln), pJ: DRAM, buffer, array bus, RF, MAC")
    for n in names:
        nd, lp = search["layers"][n]["parts"], ln["layers"][n]["parts"]
        print(f"{n:6s} nd " + " ".join(f"{k} {nd[k]:10.4e}" for k in PARTS))
        print(f"{'':6s} ln " + " ".join(f"{k} {lp[k]:10.4e}" for k in PARTS))
    print(f"\nCPU s (child processes, start-up included): nn-dataflow --solve-loopblocking {solve['cpu_s']:.2f}, "
          f"nn-dataflow search {search['cpu_s']:.2f}, loopnest {ln['cpu_s']:.2f}")
    print(f"RESULT tool=nn-dataflow-{search['version']} model=alexnet batch=1 arch=nndataflow-rs16 itcn={args.itcn:g} "
          f"dataflow={args.dataflow} loopnest_mode={args.mode} nd_solve_cpu_s={solve['cpu_s']:.2f} "
          f"nd_search_cpu_s={search['cpu_s']:.2f} loopnest_cpu_s={ln['cpu_s']:.2f} "
          f"nd_solve_energy={tot['solve']:.4e} nd_search_energy={tot['search']:.4e} loopnest_energy={tot['ln']:.4e} "
          f"ratio={tot['ln'] / min(tot['solve'], tot['search']):.4f} layers_above={','.join(above) or 'none'}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="nn-dataflow's virtual environment")
    ap.add_argument("--itcn", type=float, default=2.0, help="array bus cost per 16-bit word per PE, both tools (default 2)")
    ap.add_argument("--dataflow", choices=("rs", "free"), default="rs",
                    help="loopnest's mapspace: row stationary as nn-dataflow's (rs) or every dataflow (free)")
    ap.add_argument("--mode", choices=("auto", "exact", "heuristic"), default="auto", help="loopnest's search mode")
    ap.add_argument("--layer-timeout", type=float, default=None, help="loopnest: stop a layer's search after this many s")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds for each child process")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.itcn < 0:
        ap.error(f"--itcn: the array bus cost must be 0 or more, got {args.itcn:g}")
    if args.worker:
        worker(args.itcn, args.dataflow, args.mode, args.layer_timeout)
        return
    solve = run_nndataflow(args.venv, args.itcn, True, args.timeout)
    search = run_nndataflow(args.venv, args.itcn, False, args.timeout)
    ln = run_loopnest(args)
    report(args, solve, search, ln)


if __name__ == "__main__":
    main()
