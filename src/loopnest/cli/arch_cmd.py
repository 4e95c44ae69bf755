"""`loopnest arch ...` commands: list the presets, show one (table or JSON), validate a spec file."""

from __future__ import annotations

import typer

from loopnest.cli.common import console, fail, print_json, table_option
from loopnest.cli.tables import Column, print_table

app = typer.Typer(help="Architecture specs: list the presets, show one, validate a file.", no_args_is_help=True)



def _load(name: str, table: str | None):
    from loopnest.arch import ArchSpecError, load_arch

    try:
        return load_arch(name, table=table)
    except ArchSpecError as exc:
        fail(str(exc))


def summary(arch) -> dict:
    """Plain-data view of a resolved architecture (the `show --json` output)."""
    levels = []
    for i, lv in enumerate(arch.levels):
        entry = {
            "name": lv.name, "class": lv.cls, "capacity_words": lv.total_words, "partitions": lv.partitions,
            "word_bits": lv.word_bits, "block_words": lv.block_words, "instances": arch.instances(i),
            "keeps": list(lv.keeps), "double_buffered": lv.double_buffered,
            "read_bandwidth": lv.read_bandwidth, "write_bandwidth": lv.write_bandwidth,
            "energy_pj": dict(lv.energy_pj), "energy_pj_by_role": lv.energy_pj_by_role, "area_um2": lv.area_um2,
            "resident": list(lv.resident), "leakage_mw": lv.leakage_mw, "drain_reads": lv.drain_reads,
        }
        if lv.fanout is not None:
            entry["fanout"] = lv.fanout.model_dump()
        levels.append(entry)
    return {
        "name": arch.name, "description": arch.description, "dataflow": arch.dataflow,
        "technology_nm": arch.technology_nm, "clock_mhz": arch.clock_mhz,
        "energy_table": arch.energy_table, "energy_units": arch.energy_units,
        "levels": levels, "compute": arch.compute.model_dump(exclude_none=True) | {"cycles_per_mac": arch.compute.cycles_per_mac},
        "pes": arch.pes, "total_area_um2": arch.total_area_um2, "total_storage_bits": arch.total_storage_bits,
        "leakage_mw": sum(arch.leakage_mw().values()),
    }


@app.command("list")
def list_cmd() -> None:
    """List the shipped presets.

    Example: loopnest arch list
    """
    from loopnest.arch import list_presets

    rows = []
    for name in list_presets():
        a = _load(name, None)
        rows.append([name, str(a.pes), " > ".join(lv.name for lv in a.levels), a.energy_table or "-", a.description])
    print_table(console, "architecture presets (levels outer -> inner)",
                [Column("name", "left"), Column("PEs"), Column("levels", "left", text=True), Column("table", "left"),
                 Column("description", "left", text=True)], rows)


@app.command("show")
def show(name: str = typer.Argument(..., help="preset name or YAML file"),
         as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
         table: str | None = table_option()) -> None:
    """Show an architecture: levels outer -> inner, capacities, bandwidth, energy per action, area.

    Example: loopnest arch show eyeriss --table eyeriss65
    """
    arch = _load(name, table)
    if as_json:
        print_json(summary(arch), indent=2)
        return
    _print_tables(arch)


@app.command("validate")
def validate(file: str = typer.Argument(..., help="YAML spec file (or preset name)"),
             table: str | None = table_option()) -> None:
    """Check an architecture file: exit 0 if it loads and resolves, else one error line.

    Example: loopnest arch validate my_accelerator.yaml
    """
    arch = _load(file, table)
    console.print(f"ok: {arch.name}: {len(arch.levels)} levels, {arch.pes} PEs, energies from {arch.energy_table or 'the spec'}")


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "unbounded" if unit == "words" else "-"
    text = f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3g}"
    return f"{text} {unit}".strip()


def _rwu(e: dict) -> list[str]:
    return [_num(e[a]) for a in ("read", "write", "update")]


def _sharing(fanout, kind: str) -> str:
    """A fanout's ``multicast`` or ``reduction`` as plain text: yes, no, or per axis and tensor."""
    roles = ("outputs",) if kind == "reduction" else ("inputs", "weights")
    per = [[r for r in roles if fanout.shares(r)[a]] for a in (0, 1)]
    if per[0] == per[1]:
        return "yes" if len(per[0]) == len(roles) else ", ".join(per[0]) or "no"
    return "; ".join(f"{ax}: {', '.join(p) or 'no'}" for ax, p in zip("xy", per))


def _print_tables(arch) -> None:
    u = "pJ" if arch.energy_units == "pJ" else "norm."
    head = f"{arch.name}: {arch.description}" if arch.description else arch.name
    console.print(head, style="bold")
    console.print(f"{arch.technology_nm:g} nm, {arch.clock_mhz:g} MHz, dataflow hint: {arch.dataflow or '-'}, "
                  f"energies in {arch.energy_units} (table {arch.energy_table or '-'})")
    levels, energies = [], []
    for i, lv in enumerate(arch.levels):
        cap = (_num(lv.total_words, "words") if lv.partitions is None
               else " + ".join(f"{n} {r}" for r, n in lv.partitions.items())) + f" x {lv.word_bits} b"
        n = arch.instances(i)
        levels.append([lv.name, lv.cls, cap, str(n), ", ".join(lv.keeps), str(lv.block_words),
                       f"{_num(lv.read_bandwidth)} / {_num(lv.write_bandwidth)}"])
        energies.append([lv.name, *_rwu(lv.energy_pj), _num(lv.area_um2), _num(n * lv.area_um2)])
        for role, er in (lv.energy_pj_by_role or {}).items():
            energies.append([f"  {role}", *_rwu(er), "", ""])
    print_table(console, "storage levels, outer -> inner", [
        Column("level", "left"), Column("class", "left"), Column("capacity", text=True), Column("instances"),
        Column("keeps", "left", text=True), Column("block (words)"), Column("bw r/w (words/cycle)")], levels)
    print_table(console, f"energy per block access ({u}) and area (um^2)", [
        Column("level", "left"), Column("read"), Column("write"), Column("update"), Column("area each"),
        Column("area total")], energies)
    nets = [[lv.name, f"{lv.fanout.x} x {lv.fanout.y}", _sharing(lv.fanout, "multicast"), _sharing(lv.fanout, "reduction"),
             lv.fanout.systolic or "-", _num(lv.fanout.energy_pj), _num(lv.fanout.area_um2)]
            for lv in arch.levels if lv.fanout is not None]
    print_table(console, f"networks below a level (energy in {u} per word per child; area per parent instance)", [
        Column("below", "left"), Column("X x Y"), Column("multicast", "left"), Column("reduction", "left"),
        Column("systolic", "left"), Column("energy"), Column("area (um^2)")], nets)
    c = arch.compute
    pim = f", PIM {c.pim.rows}x{c.pim.columns}, {c.cycles_per_mac} cycles/MAC" if c.pim else ""
    console.print(f"compute: {arch.pes} x {c.name} ({c.arithmetic}{c.operand_bits}{pim}), "
                  f"{_num(c.energy_pj)} {u}/MAC, {_num(c.area_um2)} um^2 each")
    console.print(f"total: area {arch.total_area_um2 / 1e6:.3f} mm^2, on-chip storage {arch.total_storage_bits / 8 / 1024:,.1f} KiB")
