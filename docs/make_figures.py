"""Regenerate every figure of README.md and docs/ from the commands the docs give.

    python docs/make_figures.py            # all figures into docs/img/ (minutes: the full workloads)
    python docs/make_figures.py --quick --out /tmp/figs   # the same commands on small workloads (CI)
    python docs/make_figures.py --only dataflow_alexnet_256pe_b16.png --show   # one figure, its command's output shown

Each figure is one chart of one documented `loopnest` command run with `--plot`; the command is
printed before it runs. The quick mode swaps each workload for a small one (LeNet-5, AlexNet's
smallest layer) so that CI checks in seconds that every figure can still be made; the figures of
the docs come from the full mode only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

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
_PIM = ["codesign", "pim-study", "--arch", "pim-crossbar", "--noise", "rescaled", "--seeds", "0,1,2"]
_PIM_QUICK = {"0,1,2": "0"}  # one noise seed
FIGURES += [("pim_rescaled_noise.png", _PIM, None, _PIM_QUICK),
            ("pim_utilization.png", _PIM, "pim-utilization", _PIM_QUICK),
            ("pim_energy_breakdown.png", _PIM, "pim-breakdown", _PIM_QUICK)]


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
    opts = ap.parse_args(argv)
    known = [f[0] for f in FIGURES]
    for name in opts.only or ():
        if name not in known:
            ap.error(f"--only: unknown figure {name!r}; figures: {', '.join(known)}")
    opts.out.mkdir(parents=True, exist_ok=True)
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
                run(args, first, opts.show)
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
