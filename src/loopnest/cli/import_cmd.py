"""`loopnest import timeloop|zigzag|scalesim FILE... -o OUT.yaml` and `loopnest export timeloop|zigzag`:
other tools' spec formats in and out (the conversions live in ``loopnest.interop``)."""

from __future__ import annotations

from pathlib import Path

import typer

from loopnest.cli.common import err_console, fail, print_json, table_option, warn

app = typer.Typer(no_args_is_help=True, help="Read other tools' specs (Timeloop/Accelergy, ZigZag, SCALE-Sim) "
                  "into loopnest's architecture, layer and mapping YAML.")
export_app = typer.Typer(no_args_is_help=True, help="Write loopnest specs in other tools' formats (Timeloop, ZigZag).")

OUT_HELP = ("Output YAML. One kind of spec (architecture, layer or mapping) is written here; several are written "
            "beside it as <stem>.arch.yaml, <stem>.layer.yaml, <stem>.mapping.yaml.")


def _finish(imp, files: list[str], out: str, as_json: bool, what: str) -> None:
    from loopnest.interop import InteropError
    from loopnest.interop.files import check, write

    try:
        check(imp, ", ".join(files))
        paths = write(imp, Path(out), what)
    except InteropError as e:
        fail(str(e))
    lines = imp.notes.lines()
    if as_json:
        print_json({"schema_version": 1, "written": {k: str(p) for k, p in paths.items()},
                    "not_represented": [{"feature": f, "count": len(p), "places": p} for f, p in imp.notes.items.items()]})
        return
    for line in lines:
        warn(f"not represented: {line}")
    for kind, path in paths.items():
        err_console.print(f"{kind}: {path}")


@app.command("timeloop")
def import_timeloop(
    files: list[str] = typer.Argument(..., help="Timeloop/Accelergy YAML files (architecture, problem, mapping, "
                                      "ERT, ART, constraints), read together as Timeloop does."),
    out: str = typer.Option(..., "-o", "--out", help=OUT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the files written and every note as JSON."),
) -> None:
    """Import Timeloop/Accelergy v0.2-v0.4 specs.

    Timeloop's permutations list loops inner -> outer; loopnest's orders are outer -> inner (the
    importer reverses them). Everything loopnest does not represent is reported, by feature, with
    each place it occurs.

    Example: loopnest import timeloop arch.yaml prob.yaml map.yaml -o conv1d.yaml
    """
    from loopnest.interop import InteropError
    from loopnest.interop.timeloop import import_files

    try:
        imp = import_files(files)
    except InteropError as e:
        fail(str(e))
    _finish(imp, files, out, as_json, f"From Timeloop: {', '.join(files)}")


@export_app.command("timeloop")
def export_timeloop(
    arch: str = typer.Option(..., "--arch", help="Preset name or architecture YAML file."),
    layer: str = typer.Option(..., "--layer", help="MODEL:LAYER or a layer YAML spec."),
    mapping: str = typer.Option(..., "--mapping", help="loopnest mapping YAML (e.g. one written by evaluate --mappings)."),
    out: str = typer.Option(..., "-o", "--out", help="Timeloop YAML to write: architecture, ERT, ART, problem and mapping sections."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    table: str = table_option(),
    with_arch: bool = typer.Option(True, "--with-arch/--no-arch", help="Also write the architecture with its energies "
                                   "(ERT) and areas (ART)."),
) -> None:
    """Write a loopnest mapping, its layer and architecture as Timeloop YAML.

    Permutations are written inner -> outer, as Timeloop reads them.

    Example: loopnest export timeloop --arch eyeriss --layer resnet50:conv1 --mapping conv1.yaml -o conv1.tl.yaml
    """
    from loopnest.interop import InteropError
    from loopnest.interop.export import write_timeloop

    a, problem, m = _load_result(arch, layer, mapping, batch, table)
    try:
        path = write_timeloop(problem, a, m, Path(out), with_arch)
    except InteropError as e:
        fail(str(e))
    err_console.print(f"timeloop {'architecture, ' if with_arch else ''}problem and mapping: {path}")


@export_app.command("zigzag")
def export_zigzag(
    arch: str = typer.Option(..., "--arch", help="Preset name or architecture YAML file."),
    layer: str = typer.Option(..., "--layer", help="MODEL:LAYER or a layer YAML spec."),
    mapping: str = typer.Option(..., "--mapping", help="loopnest mapping YAML (e.g. one written by evaluate --mappings)."),
    out: str = typer.Option(..., "-o", "--out", help="OUT.yaml: writes OUT.workload.yaml, OUT.mapping.yaml and "
                            "OUT.accelerator.yaml beside it."),
    batch: int = typer.Option(1, "--batch", min=1, help="Batch size N."),
    table: str = table_option(),
    with_arch: bool = typer.Option(True, "--with-arch/--no-arch", help="Also write the architecture as a ZigZag "
                                   "accelerator (memories, operational array)."),
) -> None:
    """Write a loopnest layer, mapping and architecture as ZigZag workload, mapping and accelerator YAML.

    ZigZag's temporal_ordering lists loops innermost first; loopnest's orders are outer -> inner.

    Example: loopnest export zigzag --arch eyeriss --layer resnet50:conv1 --mapping conv1.yaml -o conv1.zz.yaml
    """
    from loopnest.interop import InteropError
    from loopnest.interop.zigzag_export import write_zigzag

    a, problem, m = _load_result(arch, layer, mapping, batch, table)
    try:
        paths = write_zigzag(problem, a, m, Path(out), with_arch)
    except InteropError as e:
        fail(str(e))
    for kind, path in paths.items():
        err_console.print(f"zigzag {kind}: {path}")


def _load_result(arch: str, layer: str, mapping: str, batch: int, table: str | None):
    """(Architecture, Problem, Mapping) of an export, the mapping checked against both."""
    from loopnest.arch import ArchSpecError, load_arch
    from loopnest.mapping.io import load_mapping
    from loopnest.mapping.mapping import MappingError, validate_structure
    from loopnest.workload import WorkloadError
    from loopnest.workload.layer_ref import LayerRefError, load_layer

    try:
        a = load_arch(arch, table=table)
        problem = load_layer(layer, batch)
        m = load_mapping(mapping, a)
        validate_structure(m, problem, a)
    except (ArchSpecError, WorkloadError, LayerRefError, MappingError) as e:
        fail(str(e))
    return a, problem, m


@app.command("scalesim")
def import_scalesim(
    files: list[str] = typer.Argument(..., help="A SCALE-Sim config .cfg and/or topology .csv files (conv or GEMM form)."),
    out: str = typer.Option(..., "-o", "--out", help=OUT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the files written and every note as JSON."),
) -> None:
    """Import SCALE-Sim specs: the config's systolic array and SRAMs, the topology's layers.

    Example: loopnest import scalesim scale.cfg alexnet.csv -o alexnet.yaml
    """
    from loopnest.interop import InteropError
    from loopnest.interop.scalesim import import_files

    try:
        imp = import_files(files)
    except InteropError as e:
        fail(str(e))
    _finish(imp, files, out, as_json, f"From SCALE-Sim: {', '.join(files)}")


@app.command("zigzag")
def import_zigzag(
    files: list[str] = typer.Argument(..., help="A ZigZag accelerator YAML and/or workload YAML files, and a "
                                      "mapping YAML (with the accelerator and a one-layer workload)."),
    out: str = typer.Option(..., "-o", "--out", help=OUT_HELP),
    bits: int = typer.Option(None, "--bits", min=1, max=64, help="Word width of the accelerator's memories "
                             "(default: the workload's operand precision, else 8)."),
    as_json: bool = typer.Option(False, "--json", help="Print the files written and every note as JSON."),
) -> None:
    """Import ZigZag specs: the memory hierarchy, operational array and served dimensions; the workload's MAC layers;
    a mapping (spatial mapping, temporal ordering) allocated to the levels by ZigZag's rule.

    ZigZag's temporal_ordering lists loops innermost first; loopnest's orders are outer -> inner.

    Example: loopnest import zigzag tpu_like.yaml resnet18.yaml -o tpu.yaml
    """
    from loopnest.interop import InteropError
    from loopnest.interop.zigzag import import_files

    try:
        imp = import_files(files, bits)
    except InteropError as e:
        fail(str(e))
    _finish(imp, files, out, as_json, f"From ZigZag: {', '.join(files)}")
