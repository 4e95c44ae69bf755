"""Peak memory and CPU time of the README's commands (issue 11, item 15: every README command under
1 GiB at its peak), each run in its own process tree.

A command runs under a fresh wrapper process, which reads ``RUSAGE_CHILDREN`` once the command
has ended: CPU seconds summed over the command and its worker processes, and the peak resident
set of the largest of them (Linux keeps the largest descendant's ``ru_maxrss``). ``--quick`` runs
the commands that take seconds (CI); the default runs all of them (minutes). Last line:
``RESULT commands=... max_peak_mib=... over_limit=... limit_mib=1024``

    python benchmarks/readme_memory.py [--quick] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LIMIT_MIB = 1024
# (command, quick): the Performance table of README.md, in its order
COMMANDS = (
    ("loopnest evaluate resnet50 --arch eyeriss", True),
    ("loopnest evaluate resnet50 --arch eyeriss --report {tmp}/resnet50.html", True),
    ("loopnest evaluate alexnet --arch eyeriss --batch 4 --dataflow rs --json", True),
    ("loopnest evaluate resnet50 --arch tpu-v1 --precision weights=8,inputs=8,outputs=8", False),
    ("loopnest compare-dataflows alexnet --pes 256 --batch 16", False),
    ("loopnest eyexam alexnet:conv3 --arch eyeriss", False),
    ("loopnest roofline googlenet --arch eyeriss --mode heuristic --report {tmp}/googlenet.html", False),
    ("loopnest validate", True),
)
WRAPPER = """
import json, resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "cpu_s": u.ru_utime + u.ru_stime, "peak_kib": u.ru_maxrss}))
"""


def measure(argv: list[str]) -> dict:
    """{rc, cpu_s, peak_kib} of ``argv`` run to its end in a fresh process tree."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the commands that take seconds")
    ap.add_argument("--only", help="only the commands containing this text")
    args = ap.parse_args()
    worst, over, ran = 0.0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for command, quick in COMMANDS:
            if (args.quick and not quick) or (args.only and args.only not in command):
                continue
            m = measure(command.format(tmp=tmp).split())
            peak = m["peak_kib"] / 1024
            worst, ran = max(worst, peak), ran + 1
            over += peak > LIMIT_MIB
            status = "FAILED" if m["rc"] else ("over the limit" if peak > LIMIT_MIB else "ok")
            print(f"{command.format(tmp=Path('.'))}: {m['cpu_s']:.1f} CPU s, peak {peak:.0f} MiB, {status}", flush=True)
    print(f"RESULT commands={ran} max_peak_mib={worst:.0f} over_limit={over} limit_mib={LIMIT_MIB}")


if __name__ == "__main__":
    main()
