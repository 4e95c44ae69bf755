"""Cost-model throughput: mappings evaluated per second per core, for a ResNet-50 3x3 layer
(layer1.0.conv2: C=M=64, P=Q=56, R=S=3) on the `eyeriss` preset.

The batch holds random mappings (random factor splits of every dimension over the temporal
and spatial slots, random loop orders, random bypass among what each level may hold), built
with a fixed seed; invalid ones (over capacity or fanout) are evaluated too, as a mapper does.
Time is CPU time of this one process (one core). Last line: RESULT mappings_per_second_per_core=...

    python benchmarks/model_throughput.py [--batch 200000] [--repeats 3] [--precision weights=4,inputs=8]
        [--arch eyeriss-rlc --density inputs=0.4,outputs=0.5] [--remainders]

``--precision`` costs the layer at other bit widths (packed words, partial sums at the
accumulator width): the model's slower path, where values and words differ. ``--density``
(with an architecture that has sparse features, e.g. ``eyeriss-rlc``) costs it with the sparse
model (docs/sparsity.md). ``--remainders`` draws remainder tiles instead (``remainder_batch``:
the same draw on sizes padded by up to 1/8, then the mapspace's ceil rule, from the innermost slot
out each factor at most ceil(size / chunk inside it), the outermost ceil(size / chunk); about as
many fit eyeriss's levels as exact splits do), costed by the exact remainder model
(model/clipped.py), and times the exact-split batch of the same seed in the same run,
alternating with it, as the reference (the machine's load changes from minute to minute: compare
the two figures of one run). The first line gives the valid fraction of each batch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from loopnest.arch import load_arch
from loopnest.mapping.mapping import MappingBatch
from loopnest.mapping.factors import divisors as mapspace_divisors
from loopnest.model import evaluate_batch
from loopnest.workload import load_network
from loopnest.workload.density import parse_densities, with_densities
from loopnest.workload.precision import Precision
from loopnest.workload.problem import ROLES


def exact_splits(n: int, size: int, slots: int, rng: np.random.Generator) -> np.ndarray:
    """(size, slots) factors of n, one per slot: in a random slot order, each a random divisor of
    what the slots before it leave, the last slot the rest."""
    divisors = np.array(mapspace_divisors(n))
    out = np.empty((size, slots), np.int64)
    rest = np.full(size, n)
    for k, slot in enumerate(rng.permutation(slots)):
        if k == slots - 1:
            f = rest
        else:
            ok = rest[:, None] % divisors[None, :] == 0
            f = divisors[(rng.random((size, len(divisors))) * ok).argmax(axis=1)]
        rest = rest // f
        out[:, slot] = f
    return out


def random_batch(problem, arch, size: int, rng: np.random.Generator) -> MappingBatch:
    L, D = len(arch.levels), len(problem.dims)
    temporal = np.ones((size, L, D), np.int64)
    spatial = np.ones((size, L, 2, D), np.int64)
    slots = [("t", l) for l in range(L)] + [("s", l, a) for l in range(L) if arch.levels[l].fanout for a in (0, 1)]
    for i, n in enumerate(problem.dims.values()):
        factors = exact_splits(n, size, len(slots), rng)
        for s, kind in enumerate(slots):
            if kind[0] == "t":
                temporal[:, kind[1], i] = factors[:, s]
            else:
                spatial[:, kind[1], kind[2], i] = factors[:, s]
    perm = np.argsort(rng.random((size, L, D)), axis=2)
    may = np.array([[r in lv.keeps for r in ROLES] for lv in arch.levels])
    keep = (rng.random((size, L, 3)) < 0.8) & may
    keep[:, 0] = True
    return MappingBatch(temporal, perm, spatial, keep)


def remainder_batch(problem, arch, size: int, rng: np.random.Generator) -> MappingBatch:
    """``random_batch``'s draw on padded sizes: each dimension of size n split exactly as n + a
    random pad of 0 to ceil(n / 8), then, from the innermost slot out, each factor capped at
    ceil(n / chunk inside it) and the outermost (level 0's temporal loop) exactly that (the
    mapspace's ceil rule). Remainder tiles wherever a pad leaves one, with random_batch's spread of
    small factors, so that about as many mappings fit the levels as in the exact batch."""
    base = random_batch(problem, arch, size, rng)  # loop orders and bypass
    temporal, spatial = np.ones_like(base.temporal), np.ones_like(base.spatial)
    L = len(arch.levels)
    slots = [("t", l) for l in range(L)] + [("s", l, a) for l in range(L) if arch.levels[l].fanout for a in (0, 1)]
    nest = [(l, k) for l in range(L) for k in ((-1, 0, 1) if arch.levels[l].fanout else (-1,))]  # outer -> inner
    column = {(l, -1): slots.index(("t", l)) for l in range(L)}
    column.update({(l, a): slots.index(("s", l, a)) for l in range(L) if arch.levels[l].fanout for a in (0, 1)})
    for i, n in enumerate(problem.dims.values()):
        pad = rng.integers(0, -(-n // 8) + 1, size) if n > 1 else np.zeros(size, np.int64)
        factors = np.empty((size, len(slots)), np.int64)
        for p in np.unique(pad):
            factors[pad == p] = exact_splits(n + int(p), int((pad == p).sum()), len(slots), rng)
        chunk = np.ones(size, np.int64)
        for l, k in reversed(nest[1:]):  # inner -> outer; level 0's temporal loop last
            f = np.minimum(factors[:, column[(l, k)]], -(-n // chunk))
            if k < 0:
                temporal[:, l, i] = f
            else:
                spatial[:, l, k, i] = f
            chunk *= f
        temporal[:, 0, i] = -(-n // chunk)
    return MappingBatch(temporal, base.perm, spatial, base.keep)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--precision", default=None, help="bit widths, e.g. weights=4,inputs=8,accumulator=32")
    ap.add_argument("--arch", default="eyeriss", help="preset (default eyeriss)")
    ap.add_argument("--density", default=None, help="densities, e.g. inputs=0.4,outputs=0.5")
    ap.add_argument("--remainders", action="store_true", help="remainder tiles (ceil splits) instead of exact ones")
    args = ap.parse_args()
    arch = load_arch(args.arch)
    problem = next(p for p in load_network("resnet50").layers if p.name == "layer1.0.conv2")
    if args.precision:
        problem = Precision.parse(args.precision).apply(problem)
    if args.density:
        problem = with_densities(problem, parse_densities(args.density))
    batch = (remainder_batch if args.remainders else random_batch)(problem, arch, args.batch, np.random.default_rng(0))
    runs = {"remainders" if args.remainders else "exact": batch}
    if args.remainders:
        runs["exact"] = random_batch(problem, arch, args.batch, np.random.default_rng(0))
    times = {name: [] for name in runs}
    valid = {name: evaluate_batch(problem, arch, b).valid.mean() for name, b in runs.items()}  # and warm-up
    for _ in range(args.repeats):
        for name, b in runs.items():
            t0 = time.process_time()
            evaluate_batch(problem, arch, b)
            times[name].append(time.process_time() - t0)
    rates = {name: args.batch / min(t) for name, t in times.items()}
    rate = next(iter(rates.values()))
    print(f"layer {problem.name} ({problem.macs:,} MACs) on {arch.name}: {args.batch:,} mappings; "
          + "; ".join(f"{name}: {valid[name]:.1%} valid, CPU seconds per run {', '.join(f'{t:.3f}' for t in ts)}"
                      for name, ts in times.items()))
    print(f"{'tool':<22}{'mappings/s/core':>18}")
    for name, r in rates.items():
        print(f"{'loopnest ' + name:<22}{r:>18,.0f}")
    print(f"RESULT mappings_per_second_per_core={rate:.0f} batch={args.batch} layer={problem.name} arch={arch.name}"
          + (f" precision={args.precision}" if args.precision else "") + (f" density={args.density}" if args.density else "")
          + (f" remainders exact_reference={rates['exact']:.0f} ratio={rates['exact'] / rate:.2f}" if args.remainders else ""))


if __name__ == "__main__":
    main()
