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
    mapping: str = typer.Option(..., "--mapping", help="Mapping YAML file (levels outer -> inner), or on a PIM "
                                "architecture a crossbar mapping file ('crossbar: {rows_per_array, groups_per_array, replication}')."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    precision: str = precision_option(),
    density: str = density_option(),
    table: str = table_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Print the loop nest (outer -> inner) and the per-level counts and energies of one mapping.

    A crossbar mapping file on an architecture with a compute.pim block prints that crossbar
    choice's tiles, converter counts and energy by component instead.

    Example: loopnest model --arch eyeriss --layer resnet50:layer1.0.conv2 --mapping examples/resnet50_conv2_rs.yaml
    """
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.io import parse_mapping
    from loopnest.mapping.mapping import MappingError
    from loopnest.model import CountLimitError, ModelInvariantError, evaluate
    from loopnest.report.explain import counts_table, loop_nest_lines, summary_lines
    from loopnest.workload import WorkloadError
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    from loopnest.datafile import read_own_yaml
    from loopnest.mapping.crossbar import is_crossbar_file, parse_crossbar

    try:
        a = load_arch(arch, table=table)
        problem = with_density(with_precision(load_layer(layer, batch), precision), density)
        data = read_own_yaml(mapping, MappingError)
        if is_crossbar_file(data):
            if a.compute.pim is None:
                fail(f"{mapping}: a crossbar mapping; architecture {a.name!r} has no compute.pim block (an analog crossbar)")
            if density is not None:
                fail("--density: the crossbar model does not take densities (dense weights in the cells)")
            from loopnest.cli.crossbar_cmd import model_crossbar

            return model_crossbar(problem, a, parse_crossbar(data, mapping), mapping, as_json)
        m = parse_mapping(data, a, str(mapping))
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
