"""The least-squares local fit of energy-aware pruning (Yang, Chen, Sze, CVPR 2017): calibration
accuracy of a digits CNN at fixed per-layer sparsities, magnitude-pruned, then with the fit alone
and with restore and fit, no fine-tuning; and the fit's CPU time (it runs once per candidate).

States: the budget-1 state of the passes on eyeriss-skipw and a harsher one. Last line:
``RESULT model=... fit_cpu_s=... <state>_magnitude=... <state>_fit=... <state>_restore_fit=...``
(accuracies in 0..1 on the calibration split; fit_cpu_s: one restore-and-fit of the first state).

    python benchmarks/codesign_local_fit.py [--model digits-cnn4]
"""

from __future__ import annotations

import argparse
import time

from loopnest.codesign.accuracy import accuracy
from loopnest.codesign.local_fit import first_inputs, local_fit
from loopnest.codesign.models import digits_workload
from loopnest.codesign.pruning import magnitude_masks, masked

STATES = {"passes": {"conv4": 0.8125, "conv2": 0.625, "conv3": 0.625, "fc": 0.5, "conv1": 0.25},
          "harsh": {"conv4": 0.9375, "conv2": 0.875, "fc": 0.875}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="digits-cnn4")
    args = ap.parse_args()
    module, _, data = digits_workload(args.model)
    images = first_inputs(data.train)
    out = {"unpruned": accuracy(module, data.calibration)}
    fit_cpu = None
    for label, state in STATES.items():
        masks = magnitude_masks(module, state, "layer")
        named = {n: masks[n] for n in state}
        out[f"{label}_magnitude"] = accuracy(masked(module, masks), data.calibration)
        out[f"{label}_fit"] = accuracy(masked(*local_fit(module, named, images, 0.0)), data.calibration)
        c = time.process_time()
        fitted = local_fit(module, named, images)
        fit_cpu = fit_cpu if fit_cpu is not None else time.process_time() - c
        out[f"{label}_restore_fit"] = accuracy(masked(*fitted), data.calibration)
        print(f"{label} {state}: magnitude {out[f'{label}_magnitude']:.4f}, fit {out[f'{label}_fit']:.4f}, "
              f"restore and fit {out[f'{label}_restore_fit']:.4f}")
    print(f"RESULT model={args.model} fit_cpu_s={fit_cpu:.2f} " + " ".join(f"{k}={v:.4f}" for k, v in out.items()))


if __name__ == "__main__":
    main()
