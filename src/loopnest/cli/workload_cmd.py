"""`loopnest workload ...` commands: list the zoo, print workload statistics."""

from __future__ import annotations

import csv
import sys
from enum import Enum

import typer

from loopnest.cli.common import MODEL_HELP, console, fail, precision_option, print_json, warn, with_precision
from loopnest.cli.tables import Column, print_table

app = typer.Typer(help="Workloads: the model zoo and per-layer statistics.", no_args_is_help=True)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _si(n: float) -> str:
    """Short human form: 3 significant digits with k/M/G/T."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}" if isinstance(n, float) else str(n)


@app.command("list")
def list_cmd() -> None:
    """List the built-in models.

    Example: loopnest workload list
    """
    from loopnest.workload.zoo import MODELS

    for name, (_, desc) in MODELS.items():
        console.print(f"{name:20s} {desc}")


@app.command()
def stats(
    model: str = typer.Argument(..., help=MODEL_HELP),
    batch: int = typer.Option(1, "--batch", "-n", min=1, help="batch size N"),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print one CSV row per layer."),
    fmt: Format = typer.Option(None, "--format", "-f", hidden=True, help="table, csv or json (kept for old scripts: "
                               "--json and --csv as in every other command)"),
    precision: str = precision_option(),
) -> None:
    """Per-layer and per-network MACs, weights, activations, minimum traffic and intensity.

    Example: loopnest workload stats resnet50 --json
    """
    chosen = {f for f, on in ((fmt, fmt is not None), (Format.json, as_json), (Format.csv, as_csv)) if on}
    if len(chosen) > 1:
        fail(f"give one output format; got {', '.join(sorted(f.value for f in chosen))}")
    fmt = chosen.pop() if chosen else Format.table
    from loopnest.workload import WorkloadError, load_network
    from loopnest.workload.stats import network_stats

    try:
        st = network_stats(with_precision(load_network(model, batch), precision))
    except WorkloadError as e:
        fail(str(e))
    for op_type, nodes in st.unsupported.items():
        warn(f"{model}: {len(nodes)} {op_type!r} node(s) not represented (first: {nodes[0]!r}); counted as 0 MACs")
    if fmt is Format.json:
        print_json(st.to_dict())
    elif fmt is Format.csv:
        rows = st.to_dict()["layers"]
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["name"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    else:
        _print_table(st)


def _print_table(st) -> None:
    rows = [[s.name, s.kind, _si(s.macs), _si(s.weights), _si(s.input_activations), _si(s.output_activations),
             _si(s.min_traffic_bytes), f"{s.max_intensity:.1f}"] for s in st.layers]
    for kind, k in st.totals_by_kind().items():
        rows.append([f"{kind} ({k['layers']} layers)", kind, _si(k["macs"]), _si(k["weights"]),
                     _si(k["input_activations"]), _si(k["output_activations"]), "", ""])
    tot = st.totals()
    rows.append(["total, layer by layer", "", _si(tot["macs"]), _si(tot["weights"]), _si(tot["input_activations"]),
                 _si(tot["output_activations"]), _si(tot["layerwise_traffic_bytes"]), f"{tot['layerwise_intensity']:.1f}"])
    print_table(console, f"{st.model}, batch {st.batch} (counts in elements; traffic in bytes; MACs/B = MACs per byte)",
                [Column("layer", "left"), Column("kind", "left"), *(Column(c) for c in
                 ("MACs", "weights", "in act", "out act", "traffic B", "MACs/B"))], rows,
                total=["total, network fused", "", "", "", "", "", _si(tot["min_traffic_bytes"]), f"{tot['max_intensity']:.1f}"])
    from loopnest.workload.network import COPY_KINDS

    by_kind: dict[str, int] = {}
    copied: dict[str, int] = {}
    for o in st.ops:
        if o["kind"] in COPY_KINDS:
            copied[o["kind"]] = copied.get(o["kind"], 0) + o["output_elements"]
        elif o["elem_ops"]:
            by_kind[o["kind"]] = by_kind.get(o["kind"], 0) + o["elem_ops"]
    detail = ", ".join(f"{k} {_si(v)}" for k, v in by_kind.items())
    console.print(f"non-MAC operators: {len(st.ops)}, {_si(tot['elem_ops'])} element ops ({detail})")
    if copied:
        console.print("data movement (zero element ops): " + ", ".join(f"{k} copies {_si(v)} elements"
                                                                       for k, v in copied.items()))
    console.print(f"model size: {tot['model_bytes']:,} bytes (weights at their bit widths)")
