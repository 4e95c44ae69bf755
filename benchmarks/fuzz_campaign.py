"""Long fuzz campaign (not in CI): unseeded malformed inputs of every kind (architecture YAML and
JSON, mapping, layer spec, constraints, ONNX built with onnx.helper) thrown at the CLI.

Most cases run in-process (typer's CliRunner) in ``--workers`` processes; every 250th case runs
of each worker as a real subprocess (an alias bomb, /dev/zero, or SIGINT to `evaluate --jobs 2`) to check exit
codes, resident memory and orphans there. Each case is classified:

- clean: non-zero exit and exactly one stderr line starting "error:";
- accepted: exit 0 with a valid result (JSON parses; no negative count, no non-finite number,
  utilization in [0, 1]);
- tracebacks: an exception escaped (or a second stderr line); hangs: past ``--case-seconds``;
  over_memory: resident memory past ``--max-mb``; wrong: exit 0 with an invalid result.

    python benchmarks/fuzz_campaign.py --cases 10000 --workers 2

Last line: ``RESULT cases=… clean=… accepted=… tracebacks=0 hangs=0 over_memory=0 wrong=0 …``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the case generator shared with tests/test_fuzz_inputs.py

import fuzz_inputs as fz  # noqa: E402

LOOPNEST = [sys.executable, "-c", "from loopnest.cli import main; main()"]
SUBPROCESS_EVERY = 250


class Hang(BaseException):
    """Raised by SIGALRM when a case runs past its time limit (not an Exception: nothing swallows it)."""


def _alarm(signum, frame):
    raise Hang


def run_inprocess(case, folder: Path, limit_s: float, max_mb: float) -> tuple[str, str]:
    from typer.testing import CliRunner

    from loopnest.cli import app

    args = fz.write_case(case, folder)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        r = CliRunner(env={"LOOPNEST_MAX_FILE_MB": str(fz.SMALL_MB)}).invoke(app, args)
    except Hang:
        return "hangs", f"{case[0]} {args[:3]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if rss_mb > max_mb:
        return "over_memory", f"{case[0]} {args[:3]} {rss_mb:.0f} MB"
    return classify(r.exit_code, r.stdout, r.stderr, args, r.exception, case[0])


def classify(code, stdout, stderr, args, exception, kind) -> tuple[str, str]:
    what = f"{kind} {args[:3]}"
    if exception is not None and not isinstance(exception, SystemExit) or "Traceback" in stderr:
        return "tracebacks", f"{what} {exception!r}"[:300]
    if code == 0:
        why = fz.invalid_result(stdout, args)
        return ("wrong", f"{what} {why}") if why else ("accepted", "")
    lines = stderr.splitlines()
    if len(lines) == 1 and lines[0].startswith("error: "):
        return "clean", ""
    return "tracebacks", f"{what} exit {code}: {stderr[:300]!r}"


def run_subprocess(rng: random.Random, folder: Path, limit_s: float, max_mb: float) -> tuple[str, str]:
    """One real process: an alias bomb or /dev/zero (resident memory from wait4), or SIGINT to a
    two-worker `evaluate` (exit 130, one line, no worker left)."""
    what = rng.choice(["bomb", "zero", "sigint"])
    if what == "sigint":
        return _sigint(folder, limit_s)
    if what == "bomb":
        path = folder / "bomb.yaml"
        path.write_text(f"name: {fz.bomb(rng.randint(5, 12))}\n")
        args = ["arch", "validate", str(path)]
    else:
        args = ["model", "--arch", "eyeriss", "--layer", fz.LAYER_REF, "--mapping", "/dev/zero"]
    proc = subprocess.Popen(LOOPNEST + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=limit_s * 3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "hangs", f"subprocess {what}"
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child so far, a safe upper bound
    if usage.ru_maxrss / 1024 > max_mb:
        return "over_memory", f"subprocess {what} {usage.ru_maxrss / 1024:.0f} MB"
    return classify(proc.returncode, out, err, args, None, f"subprocess {what}")


def _sigint(folder: Path, limit_s: float) -> tuple[str, str]:
    proc = subprocess.Popen(LOOPNEST + ["evaluate", "alexnet", "--arch", "simple-ws", "--jobs", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        t0 = time.monotonic()
        while len(fz.children(proc.pid)) < 2 and time.monotonic() - t0 < 60:
            time.sleep(0.2)
        workers = fz.children(proc.pid)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "hangs", "subprocess sigint"
    time.sleep(0.5)
    left = [w for w in workers if fz.alive(w)]
    if left:  # a process that does not end: counted with the hangs
        return "hangs", f"subprocess sigint: {len(left)} workers left running"
    if proc.returncode == 0:  # finished before the signal: a normal run
        return classify(0, out, err, ["--json"], None, "subprocess sigint")
    if proc.returncode != 130 or len(err.splitlines()) != 1:
        return "tracebacks", f"subprocess sigint exit {proc.returncode}: {err[:300]!r}"
    return "clean", ""


def worker(job: tuple) -> dict:
    """Run cases ``start, start + step, ...`` below ``cases`` until the deadline; counts and examples."""
    start, step, cases, deadline, limit_s, max_mb, seed = job
    rng = random.Random(seed)
    counts = {k: 0 for k in ("clean", "accepted", "tracebacks", "hangs", "over_memory", "wrong")}
    examples: dict[str, list[str]] = {}
    by_kind: dict[str, int] = {}
    findings: dict[str, int] = {}  # "verdict kind" -> cases, for the verdicts that are findings
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(start, cases, step):
            if time.time() > deadline:
                break
            folder = Path(tmp) / str(i)
            kind = "subprocess"
            try:
                if (i - start) // step % SUBPROCESS_EVERY == SUBPROCESS_EVERY - 1:  # every 250th case of each worker
                    folder.mkdir()
                    verdict, note = run_subprocess(rng, folder, limit_s, max_mb)
                else:
                    case = fz.make_case(rng)
                    kind = case[0]
                    verdict, note = run_inprocess(case, folder, limit_s, max_mb)
            except BaseException as exc:  # noqa: BLE001 - anything escaping a case is a finding, not the campaign's end
                if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Hang):
                    raise
                verdict, note = "tracebacks", f"{kind}: escaped the CLI: {exc!r}"[:300]
            counts[verdict] += 1
            by_kind[kind] = by_kind.get(kind, 0) + 1
            if verdict not in ("clean", "accepted"):
                findings[f"{verdict} {kind}"] = findings.get(f"{verdict} {kind}", 0) + 1
            if note and len(examples.setdefault(verdict, [])) < 5:
                examples[verdict].append(note)
            for f in folder.glob("*") if folder.is_dir() else ():
                f.unlink()
            done = sum(counts.values())
            if done % 500 == 0:
                print(f"worker {start}: {done} cases {json.dumps(counts)}", file=sys.stderr, flush=True)
    return {"counts": counts, "examples": examples, "by_kind": by_kind, "findings": findings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget-s", type=float, default=3 * 3600, help="stop starting cases after this many seconds")
    ap.add_argument("--case-seconds", type=float, default=30.0, help="a case past this is a hang")
    ap.add_argument("--max-mb", type=float, default=1024.0, help="resident memory past this is over_memory")
    ap.add_argument("--seed", type=int, default=None, help="default: fresh from the OS (the campaign is unseeded)")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(8), "little")
    t0 = time.time()
    jobs = [(w, a.workers, a.cases, t0 + a.budget_s, a.case_seconds, a.max_mb, seed + w) for w in range(a.workers)]
    with multiprocessing.get_context("fork").Pool(a.workers) as pool:
        parts = pool.map(worker, jobs)
    counts = {k: sum(p["counts"][k] for p in parts) for k in parts[0]["counts"]}
    by_kind: dict[str, int] = {}
    findings: dict[str, int] = {}
    for p in parts:
        for k, n in p["by_kind"].items():
            by_kind[k] = by_kind.get(k, 0) + n
        for k, n in p["findings"].items():
            findings[k] = findings.get(k, 0) + n
        for verdict, notes in p["examples"].items():
            for note in notes:
                print(f"{verdict}: {note}")
    total = sum(counts.values())
    print(f"seed {seed}; cases by kind: {json.dumps(by_kind, sort_keys=True)}; findings by kind: "
          f"{json.dumps(findings, sort_keys=True)}; {time.time() - t0:.0f} s")
    print(f"RESULT cases={total} clean={counts['clean']} accepted={counts['accepted']} tracebacks={counts['tracebacks']} "
          f"hangs={counts['hangs']} over_memory={counts['over_memory']} wrong={counts['wrong']} seed={seed} "
          f"seconds={time.time() - t0:.0f}")


if __name__ == "__main__":
    main()
