"""`loopnest workload ...` commands: list the zoo, print workload statistics."""

from __future__ import annotations

import csv
import sys
from enum import Enum

import typer

from loopnest.cli.common import console, err_console, fail, precision_option, print_json, with_precision

app = typer.Typer(help="workload commands: the model zoo and layer statistics", no_args_is_help=True)


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
    """List the built-in models."""
    from loopnest.workload.zoo import MODELS

    for name, (_, desc) in MODELS.items():
        console.print(f"{name:20s} {desc}", highlight=False)


@app.command()
def stats(
    model: str = typer.Argument(..., help="zoo model name (see `loopnest workload list`) or a path to an .onnx file"),
    batch: int = typer.Option(1, "--batch", "-n", min=1, help="batch size N"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
    precision: str = precision_option(),
) -> None:
    """Per-layer and per-network MACs, weights, activations, minimum traffic and intensity."""
    from loopnest.workload import WorkloadError, load_network
    from loopnest.workload.stats import network_stats

    try:
        st = network_stats(with_precision(load_network(model, batch), precision))
    except WorkloadError as e:
        fail(str(e))
    for op_type, nodes in st.unsupported.items():
        err_console.print(f"[yellow]warning:[/] {model}: {len(nodes)} {op_type!r} node(s) not represented "
                          f"(first: {nodes[0]!r}); counted as 0 MACs", highlight=False, soft_wrap=True)
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
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{st.model}, batch {st.batch} (counts in elements; traffic in bytes; MACs/B = MACs per byte)",
              title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("layer", "kind", "MACs", "weights", "in act", "out act", "traffic B", "MACs/B"):
        t.add_column(col, justify="left" if col in ("layer", "kind") else "right", no_wrap=True)
    for s in st.layers:
        t.add_row(s.name, s.kind, _si(s.macs), _si(s.weights), _si(s.input_activations),
                  _si(s.output_activations), _si(s.min_traffic_bytes), f"{s.max_intensity:.1f}")
    t.add_section()
    for kind, k in st.totals_by_kind().items():
        t.add_row(f"{kind} ({k['layers']} layers)", kind, _si(k["macs"]), _si(k["weights"]),
                  _si(k["input_activations"]), _si(k["output_activations"]), "", "")
    tot = st.totals()
    t.add_row("total, layer by layer", "", _si(tot["macs"]), _si(tot["weights"]), _si(tot["input_activations"]),
              _si(tot["output_activations"]), _si(tot["layerwise_traffic_bytes"]), f"{tot['layerwise_intensity']:.1f}")
    t.add_row("total, network fused", "", "", "", "", "", _si(tot["min_traffic_bytes"]),
              f"{tot['max_intensity']:.1f}")
    # piped output gets a fixed 120 columns (rich would squeeze it to 80); a terminal keeps its width
    out = console if console.is_terminal else Console(width=120)
    out.print(t)
    by_kind: dict[str, int] = {}
    for o in st.ops:
        by_kind[o["kind"]] = by_kind.get(o["kind"], 0) + o["elem_ops"]
    detail = ", ".join(f"{k} {_si(v)}" for k, v in by_kind.items())
    out.print(f"non-MAC operators: {len(st.ops)}, {_si(tot['elem_ops'])} element ops ({detail})", highlight=False)
    out.print(f"model size: {tot['model_bytes']:,} bytes (weights at their bit widths)", highlight=False)
