"""`loopnest model`: evaluate and explain one mapping of one layer."""

from __future__ import annotations

import typer

from loopnest.cli.common import (
    LAYER_HELP, console, density_option, fail, precision_option, print_json, table_option, warn_wider, with_density,
    with_precision)
from loopnest.cli.tables import Column, print_table


def model(
    arch: str = typer.Option(..., "--arch", help="Preset name or architecture YAML file."),
    layer: str = typer.Option(..., "--layer", help=LAYER_HELP),
    mapping: str = typer.Option(..., "--mapping", help="Mapping YAML file (levels outer -> inner)."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    precision: str = precision_option(),
    density: str = density_option(),
    table: str = table_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Print the loop nest (outer -> inner) and the per-level counts and energies of one mapping.

    Example: loopnest model --arch eyeriss --layer resnet50:layer1.0.conv2 --mapping examples/resnet50_conv2_rs.yaml
    """
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.io import load_mapping
    from loopnest.mapping.mapping import MappingError
    from loopnest.model import CountLimitError, ModelInvariantError, evaluate
    from loopnest.report.explain import counts_table, loop_nest_lines, summary_lines
    from loopnest.workload import WorkloadError
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    try:
        a = load_arch(arch, table=table)
        problem = with_density(with_precision(load_layer(layer, batch), precision), density)
        m = load_mapping(mapping, a)
    except (ArchSpecError, WorkloadError, LayerRefError, MappingError) as e:
        fail(str(e))
    try:
        result = evaluate(problem, a, m)
    except MappingError as e:  # the mapping does not fit this layer: name the file the user gave
        fail(f"{mapping}: {e} (layer {problem.name})")
    except (CountLimitError, ModelInvariantError) as e:
        fail(str(e))
    warn_wider(problem, a)
    if as_json:
        from loopnest.search.summary import SCHEMA_VERSION

        print_json({"schema_version": SCHEMA_VERSION, **result.to_dict()})
        return
    console.print("Loop nest, outer -> inner:", style="bold")
    for line in loop_nest_lines(result):
        console.print(line)
    title, names, rows = counts_table(result)
    print_table(console, title, [Column(n, "left" if i < 2 else "right") for i, n in enumerate(names)], rows, key=2)
    for line in summary_lines(result):
        console.print(line)
