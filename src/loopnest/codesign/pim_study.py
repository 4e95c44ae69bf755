"""The PIM study of Yang and Sze (IEDM 2019): accuracy of the digits CNNs under noise
and low-bit weights (``loopnest.codesign.pim``), and array utilization, energy per MAC and its
breakdown by component against the crossbar size (``loopnest.model.crossbar``), with each of the
seed's claims (a)-(f) checked on the numbers.

Hardware side: every layer with trained weights is mapped on arrays of each size by
``map_crossbar`` (objective energy); the number of arrays keeps the architecture's total cells
(at least one array). A network's utilization is its useful weight cells over the cells of the
arrays its tiles occupy, summed over layers; energy per MAC is its total over its MACs. Each
point is computed twice: with the preset's ADC (its width and energy at every array size; bits
beyond it are lost) and with ADCs sized to the column sums (``sized_adc``: energy doubling per
bit, so larger arrays pay for their wider sums).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loopnest.arch.spec import Architecture
from loopnest.codesign import CodesignError
from loopnest.model.crossbar import CrossbarError, array_count, resized
from loopnest.search.crossbar import map_network_crossbar
from loopnest.search.mapper import REMAINDER_FOLDS
from loopnest.workload.network import Network

DIGITS = ("digits-cnn2", "digits-cnn4", "digits-cnn8", "digits-k5", "digits-k7")
DEPTH_FAMILY = ("digits-cnn2", "digits-cnn4", "digits-cnn8")  # 3x3 filters, 2 / 4 / 8 layers
FILTER_FAMILY = ("digits-cnn2", "digits-k7")  # 2 conv layers each, 3x3 vs 7x7
WIDE_VS_DEEP = ("wide_resnet50_2", "resnet152")  # wide and shallow vs deep and thin (Yang and Sze's pair)
ZOO = ("vgg16", "resnet50", "mobilenet_v1", "mobilenet_v2", *WIDE_VS_DEEP)
SIGMAS = {"fixed": (0.0, 0.25, 0.5, 1.0, 2.0), "rescaled": (0.0, 0.02, 0.05, 0.1, 0.2)}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PimStudySpec:
    """What the study measures; ``sigmas`` None takes the noise mode's defaults; ``remainder_folds``:
    the loop-nest mapper's on the digital preset (``map_network``)."""

    networks: tuple[str, ...] = DIGITS
    zoo: tuple[str, ...] = ZOO
    noise: str = "fixed"
    sigmas: tuple[float, ...] | None = None
    weight_bits: tuple[int, ...] = (2, 3, 4, 6, 8)
    adc_bits: tuple[int, ...] = (3, 4, 6, 8)
    array_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)
    seeds: tuple[int, ...] = (0, 1, 2)
    remainder_folds: bool = REMAINDER_FOLDS

    def __post_init__(self) -> None:
        from loopnest.codesign.pim import Noise
        from loopnest.workload.precision import check_bits

        for s in self.sigmas or ():
            Noise(s, self.noise)
        Noise(0.0, self.noise)
        for b in self.weight_bits:
            check_bits(b, "--weight-bits")
            if b < 2:
                raise CodesignError(f"--weight-bits: uniform weights take 2 to 32 bits, got {b}")
        for b in self.adc_bits:
            if isinstance(b, bool) or not isinstance(b, int) or not 2 <= b <= 32:
                raise CodesignError(f"--adc-bits: an ADC of 2 to 32 bits (a symmetric partial-sum quantizer), got {b!r}")
        for n in self.array_sizes:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise CodesignError(f"--array-sizes: an array side is an integer >= 1, got {n!r}")
        if not self.seeds:
            raise CodesignError("--seeds: give at least one seed")

    @property
    def sigma_values(self) -> tuple[float, ...]:
        return self.sigmas if self.sigmas is not None else SIGMAS[self.noise]


def network_on_arrays(net: Network, arch: Architecture, side: int, arrays: int, per_layer: bool = False,
                      adc_energy: str = "fixed") -> dict:
    """One network on ``arrays`` arrays of ``side`` x ``side`` (``search.crossbar``): utilization,
    energy by component, energy per MAC, cycles (and, with ``per_layer``, every layer's mapping
    and costs); layers without trained weights are listed and left out."""
    out = map_network_crossbar(net, arch, pim=resized(arch.compute.pim, side), arrays=arrays, adc_energy=adc_energy,
                               per_layer=per_layer)
    return {"side": side, "arrays": arrays, **out["totals"], "skipped_layers": out["skipped_layers"]} | (
        {"layers": out["layers"]} if per_layer else {})


def _point(net: Network, arch: Architecture, side: int, arrays: int) -> dict:
    """A sweep point: the network with the preset's ADC (fixed width, bits lost) and, under
    ``sized_adc``, with every conversion at the width it needs (``adc_energy="sized"``)."""
    sized = network_on_arrays(net, arch, side, arrays, adc_energy="sized")
    return network_on_arrays(net, arch, side, arrays) | {
        "sized_adc": {k: sized[k] for k in ("utilization", "pj_per_mac", "total_pj", "energy_pj", "movement_share")}}


def digital_side(net: Network, digital: Architecture, pim_own: dict | None, remainder_folds: bool = REMAINDER_FOLDS) -> dict:
    """``net`` on a digital preset (the loop-nest mapper, objective energy, the preset's own
    dataflow; ``remainder_folds``: ``map_network``'s) beside its PIM numbers at the architecture's own array: energy per MAC with and
    without DRAM (the crossbar model costs no DRAM: weights stay in the cells, so the ratio is
    taken on chip), utilization (active PEs for the digital array, cells of the arrays used for
    the crossbars), and the ratio of the on-chip energies per MAC (digital / PIM)."""
    from loopnest.search.api import map_network

    t = map_network(net, digital, remainder_folds=remainder_folds).to_dict()["totals"]
    dram = sum(t["energy_by_level_pj"].get(lv.name, 0.0) for lv in digital.levels if lv.cls == "dram")
    out = {"arch": digital.name, "pj_per_mac": t["energy_per_mac_pj"], "on_chip_pj_per_mac": (t["energy_pj"] - dram) / t["macs"],
           "utilization": t["utilization"], "total_pj": t["energy_pj"], "dram_pj": dram, "macs": t["macs"], "cycles": t["cycles"],
           "area_mm2": digital.total_area_um2 / 1e6}
    pim = {k: pim_own[k] for k in ("pj_per_mac", "utilization", "total_pj", "macs", "cycles")} if pim_own else None
    ratio = out["on_chip_pj_per_mac"] / pim["pj_per_mac"] if pim and pim["pj_per_mac"] else None
    return {"digital": out, "pim": pim, "digital_over_pim_on_chip": ratio}


def hardware(spec: PimStudySpec, arch: Architecture, progress: Progress | None = None,
             digital: Architecture | None = None) -> dict:
    """Utilization and energy against array size for the digits and zoo networks, the
    breakdown at the architecture's own array and, with ``digital``, the same networks on that
    digital preset beside it."""
    from loopnest.workload.zoo import build

    pim = arch.compute.pim
    if pim is None:
        raise CodesignError(f"--arch: {arch.name!r} has no pim block (compute.arithmetic analog); the PIM study needs a crossbar architecture")
    for n in spec.array_sizes:  # before any mapping: one line naming the option
        try:
            resized(pim, n)
        except CrossbarError as e:
            raise CodesignError(f"--array-sizes: {e}") from None
    cells = array_count(arch) * pim.rows * pim.columns
    sweep, own, side = {}, {}, {}
    for name in spec.networks + spec.zoo:
        if progress:
            progress(f"{name}: crossbar mapping at {len(spec.array_sizes)} array sizes")
        net = build(name)
        sweep[name] = [_point(net, arch, n, max(1, cells // (n * n))) for n in spec.array_sizes]
        own[name] = network_on_arrays(net, arch, pim.rows, array_count(arch), per_layer=True) if pim.rows == pim.columns else None
        if digital is not None:
            if progress:
                progress(f"{name}: loop-nest mapping on the digital preset {digital.name}")
            side[name] = digital_side(net, digital, own[name], spec.remainder_folds)
    return {"total_cells": cells, "area_mm2": arch.total_area_um2 / 1e6, "sweep": sweep, "own_array": own,
            "digital": side if digital is not None else None}


def accuracy_curves(spec: PimStudySpec, rows: int, progress: Progress | None = None) -> dict:
    """Accuracy (mean and spread over seeds) against noise, weight bits and the bits of an ADC
    reading the partial sums of ``rows``-row arrays, per network."""
    from loopnest.codesign.models import check_model, digits_workload
    from loopnest.codesign.pim import Adc, Noise, pim_accuracy

    out = {}
    for name in spec.networks:
        name = check_model(name)
        if progress:
            progress(f"{name}: accuracy under {spec.noise} noise and at {len(spec.weight_bits)} weight widths")
        module, _, data = digits_workload(name)
        noise = [{"sigma": s, **pim_accuracy(module, data.test, data.calibration, noise=Noise(s, spec.noise), seeds=spec.seeds)}
                 for s in spec.sigma_values]
        bits = [{"bits": b, **pim_accuracy(module, data.test, data.calibration, weight_bits=b)} for b in spec.weight_bits]
        adc = [{"bits": b, **pim_accuracy(module, data.test, data.calibration, adc=Adc(b, rows))} for b in spec.adc_bits]
        out[name] = {"noise": noise, "weight_bits": bits, "adc_bits": adc}
    return out


def _drop(curve: list[dict], i: int) -> float:
    return curve[0]["mean"] - curve[i]["mean"]


def claims(acc: dict, hw: dict, spec: PimStudySpec) -> dict:
    """Yang and Sze's claims (a)-(f), each with a verdict (reproduced / partly / refuted / not
    tested) and the numbers it rests on. Noise drops are clean minus noisy accuracy, in points."""
    out = {}
    nets = [n for n in spec.networks if n in acc]
    sig = spec.sigma_values
    noisy = [i for i, s in enumerate(sig) if s > 0]

    def verdict(all_: bool, any_: bool) -> str:
        return "reproduced" if all_ else "partly" if any_ else "refuted"

    if len(nets) >= 2 and noisy:
        rank = lambda i: sorted(nets, key=lambda n: -acc[n]["noise"][i]["mean"])  # noqa: E731
        changes = [sig[i] for i in noisy if rank(i) != rank(0)]
        out["a"] = {"claim": "the accuracy ranking of networks changes with noise", "verdict": "reproduced" if changes else "refuted",
                    "detail": {"ranking_clean": rank(0), "ranking_at_sigma": {str(sig[i]): rank(i) for i in noisy}}}
    for key, family, text in (("b", DEPTH_FAMILY, "deeper networks lose accuracy faster under noise"),
                              ("c", FILTER_FAMILY, "larger filters are more robust to noise")) if acc else ():
        fam = [n for n in family if n in acc]
        if len(fam) < 2 or not noisy:
            out[key] = {"claim": text, "verdict": "not tested", "detail": f"needs {', '.join(family)}"}
            continue
        drops = {str(sig[i]): {n: 100 * _drop(acc[n]["noise"], i) for n in fam} for i in noisy}
        # b: drops rise with depth; c: the larger filter (last of the family) drops less
        ok = [all(d[a] <= d[b] for a, b in zip(fam, fam[1:])) if key == "b" else d[fam[-1]] < d[fam[0]] for d in drops.values()]
        first_last = [d[fam[-1]] > d[fam[0]] if key == "b" else True for d in drops.values()]
        out[key] = {"claim": text, "verdict": verdict(all(ok), any(ok) or (key == "b" and any(first_last))),
                    "detail": {"drop_points_by_sigma": drops, "holds_at": [s for s, k in zip(drops, ok) if k]}}
    if 4 in spec.weight_bits and nets:
        i = spec.weight_bits.index(4)
        at4 = {n: acc[n]["weight_bits"][i]["mean"] for n in nets}
        best = max(at4.values())
        top = [n for n, a in at4.items() if a == best]
        shallow_large = {"digits-k5", "digits-k7"}
        out["d"] = {"claim": "at 4-bit weights the shallower, larger-filter networks are the most accurate",
                    "verdict": "reproduced" if set(top) <= shallow_large else "partly" if set(top) & shallow_large else "refuted",
                    "detail": {"accuracy_at_4_bits": at4, "most_accurate": top}}
    sweep = hw["sweep"]
    if len(spec.array_sizes) >= 2:
        falls = {n: [p["utilization"] for p in pts] for n, pts in sweep.items()}
        mono = {n: all(a >= b - 1e-12 for a, b in zip(u, u[1:])) for n, u in falls.items()}
        big = {n: pts[-1]["utilization"] for n, pts in sweep.items()}
        small_filters = all(big[a] < big[b] for a, b in [("digits-cnn2", "digits-k7")] if a in big and b in big)
        out["e"] = {"claim": "utilization falls with small filters on large arrays",
                    "verdict": verdict(all(mono.values()) and small_filters, any(mono.values())),
                    "detail": {"utilization_by_side": {n: dict(zip(map(str, spec.array_sizes), u)) for n, u in falls.items()},
                               "non_increasing": mono}}
        if all(n in falls for n in WIDE_VS_DEEP):  # the seed's pair: does the wide, shallow net fill large arrays better?
            wide, deep = (falls[n] for n in WIDE_VS_DEEP)
            out["e"]["detail"]["wide_vs_deep"] = {"networks": list(WIDE_VS_DEEP),
                                                  "wide_fills_more_at": [n for n, a, b in zip(spec.array_sizes, wide, deep) if a > b]}
    own = {n: v for n, v in hw["own_array"].items() if v is not None}
    if own:
        shares = {n: v["movement_share"] for n, v in own.items()}
        out["f"] = {"claim": "activation movement (DAC, ADC, digital accumulation, buffers) dominates PIM energy",
                    "verdict": verdict(all(s > 0.5 for s in shares.values()), any(s > 0.5 for s in shares.values())),
                    "detail": {"movement_share": shares}}
    return out


def run_pim_study(spec: PimStudySpec, arch: Architecture, with_accuracy: bool = True,
                  progress: Progress | None = None, digital: Architecture | None = None) -> dict:
    """The whole study as one JSON-ready dict: settings, every point, the claims; with
    ``digital``, the same networks on that digital preset beside the PIM one."""
    if digital is not None and digital.compute.pim is not None:
        raise CodesignError(f"--digital: {digital.name!r} is a PIM architecture (compute.pim); give a digital preset such as digital-same-area")
    hw = hardware(spec, arch, progress, digital)
    pim = arch.compute.pim
    acc = accuracy_curves(spec, pim.rows, progress) if with_accuracy else {}
    return {"arch": arch.name, "array": {"rows": pim.rows, "columns": pim.columns, "arrays": array_count(arch),
                                         "bits_per_cell": pim.bits_per_cell, "dac_bits": pim.dac_bits, "adc_bits": pim.adc_bits},
            "settings": {"networks": list(spec.networks), "zoo": list(spec.zoo), "noise": spec.noise,
                         "sigmas": list(spec.sigma_values), "weight_bits": list(spec.weight_bits),
                         "adc_bits": list(spec.adc_bits), "adc_rows": pim.rows,
                         "array_sizes": list(spec.array_sizes), "seeds": list(spec.seeds),
                         "digital": digital.name if digital is not None else None},
            "units": {"energy": "pJ", "accuracy": "fraction 0..1 of the test split", "cycles": "cycles"},
            "accuracy": acc, "hardware": hw, "claims": claims(acc, hw, spec)}
