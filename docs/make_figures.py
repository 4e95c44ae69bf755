"""Regenerate every figure of README.md and docs/ from the commands the docs give.

    python docs/make_figures.py            # all figures into docs/img/ (the full workloads)
    python docs/make_figures.py --quick --out /tmp/figs   # the same commands on small workloads (CI)
    python docs/make_figures.py --only dataflow_alexnet_256pe_b16.png --show   # one figure, its command's output shown
    python docs/make_figures.py --stores runs/   # keep the sweep stores in runs/ (a rerun resumes them)

Each figure is one chart of one documented `loopnest` command run with `--plot` (a sweep figure:
`sweep show` of a store the script first fills with `sweep run`, which computes only the points
the store lacks: with `--stores DIR` the stores are kept there, so a rerun, or stores copied there
from the runs the docs report, draw at once); the command is printed before it runs. The quick
mode swaps each workload for a small one (LeNet-5, AlexNet's smallest layer) so that CI checks
in seconds that every figure can still be made; the figures of the docs come from the full mode
only (hours for the sweeps on a loaded machine: keep their stores).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# (figure file in docs/img, command arguments (the docs' command), chart id the figure is (None: the
# first chart), the quick-mode replacements for the workload arguments)
FIGURES = [
    ("dataflow_alexnet_256pe_b16.png", ["compare-dataflows", "alexnet", "--pes", "256", "--batch", "16"], None,
     {"alexnet": "lenet5", "16": "1"}),
    ("eyexam_alexnet_conv3.png", ["eyexam", "alexnet:conv3", "--arch", "eyeriss"], None,
     {"alexnet:conv3": "lenet5:conv2"}),
    ("roofline_googlenet_eyeriss.png", ["roofline", "googlenet", "--arch", "eyeriss", "--table", "eyeriss65",
                                        "--mode", "heuristic"], None, {"googlenet": "lenet5"}),
    ("googlenet_energy_by_type.png", ["roofline", "googlenet", "--arch", "eyeriss", "--table", "eyeriss65",
                                      "--mode", "heuristic"], "breakdown-pie", {"googlenet": "lenet5"}),
    ("codesign_digits_cnn4_eyeriss.png", ["codesign", "precision", "digits-cnn4", "--arch", "eyeriss", "--bits",
                                          "2,3,4,6,8,16"], None, {"digits-cnn4": "digits-cnn2", "2,3,4,6,8,16": "4,8"}),
]
_PIM = ["codesign", "pim-study", "--arch", "pim-crossbar", "--noise", "rescaled", "--seeds", "0,1,2", "--digital", "none"]
_PIM_QUICK = {"0,1,2": "0"}  # one noise seed
FIGURES += [("pim_rescaled_noise.png", _PIM, None, _PIM_QUICK),
            ("pim_utilization.png", _PIM, "pim-utilization", _PIM_QUICK),
            ("pim_energy_breakdown.png", _PIM, "pim-breakdown", _PIM_QUICK),
            ("pim_weight_bits.png", _PIM, "pim-weight-bits", _PIM_QUICK)]

# The sweep figures: `sweep show STORE --plot`, STORE first filled by `sweep run SPEC` (resumable);
# the quick mode sweeps a cut-down copy of SPEC (LeNet-5 at batch 1, 2, ... for its workloads, two values per
# axis, heuristic mapper).
SWEEPS = {"rf.sqlite": "examples/sweep_rf_size.yaml", "pe.sqlite": "examples/sweep_pe_scaling.yaml",
          "glb.sqlite": "examples/sweep_glb_size.yaml"}
FIGURES += [("sweep_rf_size_energy.png", ["sweep", "show", "rf.sqlite"], "axis-w0-0-energy_pj", {}),
            ("sweep_pe_scaling_alexnet.png", ["sweep", "show", "pe.sqlite"], "axis-w0-1-cycles", {}),
            ("sweep_glb_size_squeezenet.png", ["sweep", "show", "glb.sqlite"], "axis-w1-0-energy_pj", {})]
FIGURES += [("codesign_netadapt_digits_cnn4_eyeriss.png",
             ["codesign", "netadapt", "digits-cnn4", "--arch", "eyeriss", "--budget", "latency=0.5x", "--uniform-baseline"],
             None, {"digits-cnn4": "digits-cnn2", "latency=0.5x": "latency=0.8x"})]

FIGURES += [("codesign_prune_compare_digits_cnn4_eyeriss_skipw.png",
             ["codesign", "prune-compare", "digits-cnn4", "--arch", "eyeriss-skipw", "--budgets", "0,1,1.5,2,3,5"],
             None, {"digits-cnn4": "digits-cnn2", "0,1,1.5,2,3,5": "0"})]


def sweep_store(args: list[str], tmp: Path, quick: bool, stores: Path | None = None) -> list[str]:
    """``args`` with a `sweep show` store replaced by a store filled by its spec's sweep, in ``stores``
    (kept: a rerun computes only missing points) or else in ``tmp``."""
    if args[:2] != ["sweep", "show"]:
        return args
    spec = ROOT / SWEEPS[args[2]]
    if quick:
        data = yaml.safe_load(spec.read_text())
        data["workloads"] = [{"model": "lenet5", "batch": i + 1} for i in range(len(data["workloads"]))]  # chart ids name the workload's index
        data["axes"] = [{**a, "values": a["values"][:2]} for a in data["axes"]]
        data["mapper"] = {**data.get("mapper", {}), "mode": "heuristic"}
        spec = tmp / spec.name
        spec.write_text(yaml.safe_dump(data))
    store = (stores or tmp) / args[2]
    subprocess.run([sys.executable, "-m", "loopnest", "sweep", "run", str(spec), "--store", str(store), "--jobs", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [*args[:2], str(store), *args[3:]]


def run(args: list[str], plot: Path, show: bool = False) -> None:
    cmd = [sys.executable, "-m", "loopnest", *args, "--plot", str(plot)]
    print("$ loopnest " + " ".join([*args, "--plot", plot.name]), flush=True)
    subprocess.run(cmd, check=True, stdout=None if show else subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> list[Path]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small workloads (a check that every figure can be made)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder of the figures (default docs/img)")
    ap.add_argument("--only", action="append", metavar="FIGURE", help="make only this figure (repeatable)")
    ap.add_argument("--show", action="store_true", help="print each command's own output (its tables)")
    ap.add_argument("--stores", type=Path, help="folder of the sweep stores, kept and resumed (default: a temporary one)")
    opts = ap.parse_args(argv)
    if opts.stores is not None and opts.quick:
        ap.error("--stores keeps the full sweeps' stores; --quick sweeps cut-down copies (use one or the other)")
    known = [f[0] for f in FIGURES]
    for name in opts.only or ():
        if name not in known:
            ap.error(f"--only: unknown figure {name!r}; figures: {', '.join(known)}")
    opts.out.mkdir(parents=True, exist_ok=True)
    if opts.stores is not None:
        opts.stores.mkdir(parents=True, exist_ok=True)
    made, done = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, chart, quick in FIGURES:
            if opts.only and name not in opts.only:
                continue
            if opts.quick:
                args = [quick.get(a, a) for a in args]
            key = tuple(args)
            if key not in done:  # one run per command: its charts land beside each other
                first = Path(tmp) / f"run{len(done)}.png"
                run(sweep_store(args, Path(tmp), opts.quick, opts.stores), first, opts.show)
                done[key] = first
            first = done[key]
            src = first if chart is None else first.with_name(f"{first.stem}-{chart}{first.suffix}")
            shutil.copyfile(src, opts.out / name)
            made.append(opts.out / name)
    for p in made:
        print(f"wrote {p}")
    return made


if __name__ == "__main__":
    main()
