"""Model-based search for spaces too big to grid: sampling method ``optuna``.

Optuna's TPE sampler (seeded with ``sampling.seed``) proposes architecture points, one integer
index per axis (its values in the order written, so a sorted axis keeps its order), until
``sampling.points`` distinct points admitted by the constraints are evaluated. The value it
minimizes is the geometric mean, over the sweep's workloads, of the mapper objective's leading
metric (energy, cycles or EDP); a point that is invalid on some workload, or that a constraint
excludes, is told as a failed trial. ``sampling.batch`` points are proposed before their results
are told (the workers map them in parallel).

Every proposal depends only on the spec and on earlier results, which are pure functions of their
points, so a rerun replays the same proposals: a killed search resumes from the store (rows found
there are not recomputed), and every executor gives the same rows. Optuna is an optional extra
(``pip install 'loopnest[optuna]'``), imported only here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator

from loopnest.dse.point import Point
from loopnest.dse.run import ExecutorError, Progress, SweepRun, arch_points
from loopnest.dse.spec import SweepSpec, points
from loopnest.dse.store import Store
from loopnest.search.objective import Objective

_COLUMN = {"energy": "energy_pj", "cycles": "cycles", "edp": "edp"}
MAX_ASKS_PER_POINT = 50  # proposals per wanted point before the search stops (TPE repeating itself)


def _value(rows: list[dict], column: str) -> float | None:
    """Geometric mean of ``column`` over one architecture's rows; None if any is invalid."""
    if any(r["status"] != "ok" or not r[column] > 0 for r in rows):
        return None
    return math.exp(sum(math.log(r[column]) for r in rows) / len(rows))


def run_optuna(spec: SweepSpec, base: dict, store: Store, compute: Callable[[list[Point]], Iterator[dict]],
               progress: Progress | None = None) -> SweepRun:
    try:
        import optuna
    except ImportError:
        raise ExecutorError("sampling method optuna needs Optuna: pip install 'loopnest[optuna]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    grid = points(spec, base)
    index = {tuple(json.dumps(values[a.path]) for a in spec.axes): i for i, values in enumerate(grid)}
    column = _COLUMN[Objective.parse(spec.mapper.objective).keys[0][0][0]]
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=spec.sampling.seed))
    want = min(spec.sampling.points, len(grid))
    have = store.keys()
    values: dict[int, float | None] = {}  # grid index -> told value (None: invalid)
    keys: set[str] = set()
    computed = invalid = n = asks = 0
    while len(values) < want and asks < MAX_ASKS_PER_POINT * want:
        trials = []
        for _ in range(spec.sampling.batch):
            t = study.ask()
            asks += 1
            combo = tuple(json.dumps(a.values[t.suggest_int(f"{j}:{a.path}", 0, len(a.values) - 1)])
                          for j, a in enumerate(spec.axes))
            trials.append((t, index.get(combo)))
        new = list(dict.fromkeys(i for _, i in trials if i is not None and i not in values))[:want - len(values)]
        by_arch = {i: arch_points(spec, base, i, grid[i]) for i in new}
        todo = list({p.key: p for ps in by_arch.values() for p in ps if p.key not in have}.values())
        for row in compute(todo):
            store.add(row)
            have.add(row["key"])
            computed += 1
            invalid += row["status"] != "ok"
            n += 1
            if progress:
                progress(n, want * len(spec.workloads), row)
        for i, ps in by_arch.items():
            keys |= {p.key for p in ps}
            values[i] = _value(store.rows([p.key for p in ps]), column)
        for t, i in trials:
            v = values.get(i) if i is not None else None
            study.tell(t, v) if v is not None else study.tell(t, state=optuna.trial.TrialState.FAIL)
    return SweepRun(len(values), len(keys), len(keys) - computed, computed, invalid)
