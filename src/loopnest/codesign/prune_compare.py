"""Energy-aware against magnitude pruning at equal accuracy (the comparison of Yang, Chen, Sze,
CVPR 2017, Fig. 6: energy against accuracy for both methods).

Each method's strength is swept: :func:`loopnest.codesign.pruning.run_prune` runs once per
accuracy-drop budget of ``budgets`` (points, checked on the calibration split), same seed, same
fine-tuning, same architecture; every run gives one point (test accuracy, modeled energy at the
pruned network's measured weight densities). The unpruned network is a point of both methods (no
pruning at all meets any target).

Matching rule (:func:`match`): for a target drop t (points of test accuracy below the unpruned
network's), each method's point is its lowest-energy point whose test accuracy is at least the
unpruned accuracy minus t; ``energy_ratio`` is the magnitude method's energy over the
energy-aware one's (above 1: energy-aware is better at that accuracy). The budget is checked on
the calibration split and the match on the test split, so a point can land below its own budget
on test; the rule takes whatever accuracy each point measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loopnest.codesign import CodesignError
from loopnest.search.mapper import REMAINDER_FOLDS

METHODS = ("magnitude", "energy")
BUDGETS = (0.0, 1.0, 1.5, 2.0, 3.0, 5.0)  # accuracy-drop budgets swept (points; one digits calibration image is 0.56)
TARGETS = (0.5, 1.0, 2.0)  # test-accuracy drops the methods are matched at (points)


def _point(p: dict, budget: float | None, state: dict | None) -> dict:
    return {"budget_points": budget, "accuracy_test": p["accuracy_test"], "accuracy_calibration": p["accuracy_calibration"],
            "energy_pj": p["energy_pj"], "cycles": p["cycles"], "nonzero_weights": sum(p["nonzero_weights"].values()),
            "weights": p["weights"], "nonzero_weight_macs": p["nonzero_weight_macs"], "macs": p["macs"], "sparsity": state}


def match(unpruned: dict, points: dict[str, list[dict]], targets: Sequence[float]) -> list[dict]:
    """The matching rule of the module docstring: per target drop, each method's lowest-energy
    point at or above the target accuracy (the unpruned point always qualifies)."""
    rows = []
    for t in targets:
        floor = unpruned["accuracy_test"] - t / 100
        row: dict = {"target_drop_points": t, "min_accuracy_test": floor}
        for method, pts in points.items():
            ok = [unpruned, *(p for p in pts if p["accuracy_test"] >= floor)]
            best = min(ok, key=lambda p: (p["energy_pj"], -p["accuracy_test"]))
            row[method] = {"budget_points": best["budget_points"], "accuracy_test": best["accuracy_test"],
                           "energy_pj": best["energy_pj"], "energy_reduction": unpruned["energy_pj"] / best["energy_pj"]}
        if "magnitude" in row and "energy" in row:
            row["energy_ratio"] = row["magnitude"]["energy_pj"] / row["energy"]["energy_pj"]
        rows.append(row)
    return rows


def run_prune_compare(module, name: str, data, arch, *, budgets: Sequence[float] = BUDGETS,
                      targets: Sequence[float] = TARGETS, dataflow: str | None = None, mode: str = "auto",
                      short_epochs: int = 1, lr: float = 1e-3, seed: int = 0, jobs: int | None = 1,
                      constraints=None, precision=None, layer_precision=None,
                      progress: Callable[[str], None] | None = None, local_fit: str = "none",
                      activations: str = "dense", remainder_folds: bool = REMAINDER_FOLDS) -> dict:
    """Sweep both methods over ``budgets`` and match them at ``targets`` (module docstring);
    ``constraints``, ``precision`` and ``layer_precision`` as in ``run_prune``; ``local_fit``
    that of the energy-aware runs (magnitude pruning has none); ``activations`` as in ``run_prune``
    (both methods); ``remainder_folds`` as in ``run_prune``.
    Returns the study as a JSON-ready dict: every point of both methods, the unpruned point and
    the matched rows."""
    from loopnest.codesign.pruning import check_local_fit, run_prune

    if not budgets or any(not b >= 0 for b in budgets):
        raise CodesignError(f"--budgets: accuracy points >= 0, at least one, got {list(budgets)}")
    if any(not t >= 0 for t in targets):
        raise CodesignError(f"--targets: accuracy points >= 0, got {list(targets)}")
    check_local_fit(local_fit, "energy")
    say = progress or (lambda _: None)
    points: dict[str, list[dict]] = {m: [] for m in METHODS}
    start, notes, memo = None, [], {}  # memo: candidates and final points shared across budgets
    for method in METHODS:
        for b in sorted(budgets):
            say(f"{method} pruning, budget {b:g} points")
            study, _ = run_prune(method, module, name, data, arch, b, dataflow=dataflow, mode=mode, short_epochs=short_epochs,
                                 lr=lr, seed=seed, progress=progress, jobs=jobs, start=start,
                                 memo=memo, constraints=constraints, precision=precision,
                                 layer_precision=layer_precision, local_fit=local_fit if method == "energy" else "none",
                                 activations=activations, remainder_folds=remainder_folds)
            start = study["start"]
            points[method].append({**_point(study["final"], b, study["sparsity"]), "candidates": len(study["steps"])})
            notes += [n for n in study["notes"] if n not in notes]
    unpruned = _point(start, None, None)
    return {"study": "prune-compare", "model": name, "arch": arch.name, "energy_units": arch.energy_units,
            "settings": {"budgets_points": sorted(budgets), "targets_points": list(targets), "local_fit": local_fit,
                         "activations": activations, "short_epochs": short_epochs,
                         "lr": lr, "seed": seed, "dataflow": dataflow, "mode": mode,
                         "matching": "per target drop t: each method's lowest-energy point with test accuracy >= the "
                                     "unpruned test accuracy - t points (the unpruned network always qualifies)"},
            "accuracy_units": "fraction classified correctly (top-1); budgets on the calibration split, matching on the test split",
            "unpruned": unpruned, "points": points, "matched": match(unpruned, points, targets), "notes": notes}
