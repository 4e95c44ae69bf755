"""`loopnest codesign pim-study`: Yang and Sze's PIM study (IEDM 2019) (accuracy under noise and low-bit weights,
crossbar utilization and energy against array size, energy by component, the claims checked)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from loopnest.cli.codesign_cmd import _need_extras
from loopnest.cli.common import check_outputs, console, err_console, fail, print_json, remainder_folds_option, save_plots
from loopnest.cli.compare_cmd import PLOT_HELP
from loopnest.cli.tables import Column, print_table


def _list(text: str, kind, option: str, what: str) -> tuple:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(kind(part))
        except ValueError:
            fail(f"{option}: {what}, got {part!r}")
    return tuple(out)


def pim_study(
    arch: str = typer.Option("pim-crossbar", "--arch", help="A PIM preset or architecture YAML file (compute.pim)."),
    networks: str = typer.Option(",".join(("digits-cnn2", "digits-cnn4", "digits-cnn8", "digits-k5", "digits-k7")), "--networks",
                                 help="Comma-separated digits CNNs (accuracy and hardware)."),
    zoo: str = typer.Option("vgg16,resnet50,mobilenet_v1,mobilenet_v2,wide_resnet50_2,resnet152", "--zoo", help="Comma-separated zoo networks (hardware only; the last two of the default: wide and shallow vs deep and thin); '' for none."),
    noise: str = typer.Option("fixed", "--noise", help="fixed (one sigma for every layer) | rescaled (sigma x the layer's max |output|)."),
    sigma: str = typer.Option(None, "--sigma", help="Comma-separated noise standard deviations (default: 0,.25,.5,1,2 fixed; 0,.02,.05,.1,.2 rescaled)."),
    weight_bits: str = typer.Option("2,3,4,6,8", "--weight-bits", help="Comma-separated weight bit widths (uniform, 2 to 32)."),
    adc_bits: str = typer.Option("3,4,6,8", "--adc-bits", help="Comma-separated ADC widths reading each array's partial sums (2 to 32)."),
    array_sizes: str = typer.Option("64,128,256,512,1024,2048,4096", "--array-sizes", help="Comma-separated square array sides (cells)."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated noise seeds; each noisy point is their mean and spread."),
    digital: str = typer.Option("digital-same-area", "--digital", help="A digital preset or YAML file: the same networks on it "
                                "(loop-nest mapper) beside the PIM one; '' or none to leave it out."),
    remainder_folds: bool = remainder_folds_option(),
    no_accuracy: bool = typer.Option(False, "--no-accuracy", help="Hardware side only (no torch needed)."),
    as_json: bool = typer.Option(False, "--json", help="Print every number as JSON."),
    plot: Path = typer.Option(None, "--plot", help=PLOT_HELP),
    report: Path = typer.Option(None, "--report", help="Also write a self-contained HTML report (claims, tables, interactive plots) here."),
) -> None:
    """Yang and Sze's PIM study (IEDM 2019) on the digits CNNs and zoo networks: accuracy against
    noise and weight bits, crossbar utilization and energy per MAC against array size, energy by
    component, and which of the paper's claims (a)-(f) the numbers reproduce.

    Example: loopnest codesign pim-study --arch pim-crossbar --noise rescaled --plot pim.png
    """
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.codesign import CodesignError
    from loopnest.codesign.pim_study import PimStudySpec, run_pim_study
    from loopnest.model.crossbar import CrossbarError
    from loopnest.workload.precision import PrecisionError
    from loopnest.workload.zoo import find_model

    check_outputs(report, plot)
    nets = _list(networks, str, "--networks", "a digits CNN name")
    zoo_nets = _list(zoo, str, "--zoo", "a zoo network")
    for z in zoo_nets:
        if find_model(z) is None:
            fail(f"--zoo: unknown network {z!r}; see `loopnest workload list`")
    try:
        spec = PimStudySpec(
            networks=nets, zoo=tuple(find_model(z) for z in zoo_nets), noise=noise,
            sigmas=None if sigma is None else _list(sigma, float, "--sigma", "a noise standard deviation (a number >= 0)"),
            weight_bits=_list(weight_bits, int, "--weight-bits", "an integer bit width from 2 to 32"),
            adc_bits=_list(adc_bits, int, "--adc-bits", "an integer ADC width from 2 to 32"),
            array_sizes=_list(array_sizes, int, "--array-sizes", "an integer array side >= 1"),
            seeds=_list(seeds, int, "--seeds", "an integer seed"), remainder_folds=remainder_folds)
        if not no_accuracy:
            from loopnest.codesign.models import check_model
            spec = replace(spec, networks=tuple(check_model(n) for n in nets))
        a = load_arch(arch)
        d = None if digital.strip().lower() in ("", "none") else load_arch(digital)
    except (CodesignError, PrecisionError, ArchSpecError) as e:
        fail(str(e))
    if not no_accuracy:
        _need_extras()
    try:
        out = run_pim_study(spec, a, with_accuracy=not no_accuracy, digital=d,
                            progress=None if as_json else (lambda m: err_console.print(m, highlight=False)))
    except (CodesignError, CrossbarError) as e:
        fail(str(e))
    if plot is not None:
        from loopnest.report.codesign import pim_charts

        save_plots(pim_charts(out), plot)
    if report is not None:
        from loopnest.report.codesign import pim_sections
        from loopnest.report.html import write_report
        from loopnest.report.plots import OutputError

        try:
            write_report(report, f"PIM study (Yang and Sze, IEDM 2019) on {out['arch']}", pim_sections(out), out)
        except OutputError as e:
            fail(str(e))
        err_console.print(f"report: {report}")
    if as_json:
        print_json(out)
    else:
        _tables(out)


def _tables(out: dict) -> None:
    s, acc, hw = out["settings"], out["accuracy"], out["hardware"]
    if acc:
        print_table(console, f"Test accuracy (%) under {s['noise']} Gaussian noise on every layer's outputs, mean ± spread over seeds {s['seeds']}",
                    [Column("network", "left"), *(Column(f"sigma {x:g}") for x in s["sigmas"])],
                    [[n, *(f"{100 * p['mean']:.1f} ± {100 * p['std']:.1f}" for p in a["noise"])] for n, a in acc.items()])
        print_table(console, "Test accuracy (%) with weights at each bit width (uniform, per tensor; activations float; no retraining)",
                    [Column("network", "left"), *(Column(f"{b} bits") for b in s["weight_bits"])],
                    [[n, *(f"{100 * p['mean']:.1f}" for p in a["weight_bits"])] for n, a in acc.items()])
        print_table(console, f"Test accuracy (%) with each {s['adc_rows']}-row array's partial sums read by an ADC of each width (range set on the calibration split)",
                    [Column("network", "left"), *(Column(f"{b} bits") for b in s["adc_bits"])],
                    [[n, *(f"{100 * p['mean']:.1f}" for p in a["adc_bits"])] for n, a in acc.items()])
    sides = s["array_sizes"]
    sized = lambda p: p["sized_adc"]  # noqa: E731
    for get, key, title, fmt in ((dict, "utilization", "Crossbar utilization (useful weight cells / cells of the arrays used)", "{:.3f}"),
                                 (dict, "pj_per_mac", "Energy per MAC (pJ), the preset's ADC at every size", "{:.3g}"),
                                 (sized, "pj_per_mac", "Energy per MAC (pJ), ADCs sized to the column sums (x2 per bit)", "{:.3g}")):
        print_table(console, f"{title}; same total cells ({hw['total_cells']:,}) at every size",
                    [Column("network", "left"), *(Column(f"{n}x{n}") for n in sides)],
                    [[n, *("-" if get(p)[key] is None else fmt.format(get(p)[key]) for p in pts)] for n, pts in hw["sweep"].items()])
    own = {n: v for n, v in hw["own_array"].items() if v is not None and v["macs"]}
    if own:
        arr = out["array"]
        comps = list(next(iter(own.values()))["energy_pj"])
        print_table(console, f"Energy by component on {out['arch']} ({arr['arrays']} arrays of {arr['rows']}x{arr['columns']}), % of the total",
                    [Column("network", "left"), Column("pJ/MAC"), Column("utilization"), *(Column(c) for c in comps), Column("movement")],
                    [[n, f"{v['pj_per_mac']:.3g}", f"{v['utilization']:.3f}",
                      *(f"{100 * v['energy_pj'][c] / v['total_pj']:.1f}" for c in comps), f"{100 * v['movement_share']:.1f}"]
                     for n, v in own.items()])
    side = hw.get("digital")
    if side:
        first = next(iter(side.values()))["digital"]
        arr = out["array"]
        print_table(console, f"The same networks on the digital preset {first['arch']} ({first['area_mm2']:.3f} mm^2, loop-nest mapper) beside "
                    f"{out['arch']} ({hw['area_mm2']:.3f} mm^2, {arr['arrays']} arrays of {arr['rows']}x{arr['columns']}); utilization: "
                    "cells of the arrays used (PIM), active PEs (digital); the crossbars cost no DRAM (weights stay in the cells), "
                    "so the ratio is on chip",
                    [Column("network", "left"), Column("PIM pJ/MAC"), Column("PIM util"), Column("digital pJ/MAC on chip"),
                     Column("with DRAM"), Column("digital util"), Column("digital / PIM")],
                    [[n, "-" if v["pim"] is None else f"{v['pim']['pj_per_mac']:.3g}", "-" if v["pim"] is None else f"{v['pim']['utilization']:.3f}",
                      f"{v['digital']['on_chip_pj_per_mac']:.3g}", f"{v['digital']['pj_per_mac']:.3g}", f"{v['digital']['utilization']:.3f}",
                      "-" if v["digital_over_pim_on_chip"] is None else f"{v['digital_over_pim_on_chip']:.2f}x"]
                     for n, v in side.items()])
    console.print("Yang and Sze's claims on these numbers (the numbers behind each verdict: --json, 'claims'):", highlight=False)
    for k, c in out["claims"].items():
        console.print(f"  ({k}) {c['verdict']}: {c['claim']}", highlight=False)
