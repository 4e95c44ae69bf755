"""`loopnest sweep ...`: design-space sweeps over architectures x workloads into a resumable
SQLite store (`run`), their results and Pareto fronts (`show`), CSV/Parquet export (`export`) and
an HTML dashboard (`report`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from loopnest.cli.common import console, err_console, fail, print_json

app = typer.Typer(help="design-space sweeps: run a sweep spec into a store; show, export or report its results", no_args_is_help=True)


@app.command()
def run(
    spec: Path = typer.Argument(..., help="Sweep spec YAML (docs/dse.md)."),
    store: Path = typer.Option(..., "--store", help="SQLite result store; created if missing, resumed if present."),
    jobs: int = typer.Option(1, "--jobs", min=1, help="Worker processes (local: 1 runs in this process; dask: the LocalCluster's workers)."),
    executor: str = typer.Option("local", "--executor", help="local (processes on this machine) or dask (Dask distributed; pip install 'loopnest[dse]')."),
    scheduler: str = typer.Option(None, "--scheduler", help="dask: the scheduler's address tcp://HOST:PORT (default: a LocalCluster of --jobs workers)."),
) -> None:
    """Evaluate every point of SPEC not yet in the store (a killed sweep resumes where it stopped)."""
    from loopnest.dse.run import EXECUTORS, ExecutorError, run_sweep
    from loopnest.dse.spec import SweepSpecError, load_sweep
    from loopnest.dse.store import Store, StoreError

    if executor not in EXECUTORS:
        fail(f"--executor: {executor!r} is no executor; valid: {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        fail("--scheduler: only with --executor dask")
    import importlib.util

    if executor == "dask" and importlib.util.find_spec("distributed") is None:
        fail("--executor dask needs Dask distributed: pip install 'loopnest[dse]'")
    try:
        s, base = load_sweep(spec)
    except SweepSpecError as e:
        fail(str(e))
    if s.sampling.method == "optuna" and importlib.util.find_spec("optuna") is None:
        fail(f"{spec}: sampling.method: optuna needs Optuna: pip install 'loopnest[optuna]'")
    try:
        st = Store(store)  # checked (folder, format, version) before any point is computed
    except StoreError as e:
        fail(str(e))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from loopnest.search.objective import Objective

    first = Objective.parse(s.mapper.objective).keys[0][0][0]  # the objective's leading metric
    metric = {"energy": "energy_pj", "cycles": "cycles", "edp": "edp"}[first]
    best: dict[tuple, dict] = {}

    def progress(done: int, total: int, row: dict) -> None:
        """The bar, and the best valid point so far of the workload just finished (by the objective's leading metric)."""
        w = (row["model"], row["batch"])
        if row["status"] == "ok" and (w not in best or row[metric] < best[w][metric]):
            best[w] = row
        b = best.get(w)
        unit = {"energy": b and b["energy_units"], "cycles": "cycles", "edp": b and f"{b['energy_units']} x cycles"}[first]
        text = f"best {first} on {w[0]}: {b[metric]:.4g} {unit} at {b['params']}" if b else ""
        bar.update(task, completed=done, total=total, best=text)

    with st, Progress(TextColumn(f"sweep {s.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), TextColumn("{task.fields[best]}"), console=err_console, transient=True) as bar:
        task = bar.add_task("points", total=None, best="")
        try:
            result = run_sweep(s, base, st, jobs, progress=progress, executor=executor, scheduler=scheduler)
        except ExecutorError as e:
            fail(f"{e}; {len(st.keys())} rows are stored in {store}: run the same command to resume")
        except KeyboardInterrupt:
            fail(f"interrupted; {len(st.keys())} rows are stored in {store}: run the same command to resume", code=130)
    err_console.print(f"sweep {s.name}: {result.total} points ({result.architectures} architectures x {len(s.workloads)} workloads); "
                      f"{result.stored} already stored, {result.computed} computed ({result.invalid} invalid); store {store}",
                      highlight=False)


@app.command()
def show(
    store: Path = typer.Argument(..., help="SQLite result store written by `loopnest sweep run`."),
    pareto: str = typer.Option(None, "--pareto", help="Keep the Pareto front (per workload) over 2 or 3 of: energy, latency, area, edp."),
    as_csv: bool = typer.Option(False, "--csv", help="Print the rows as CSV (axes and metrics flattened; a file: `sweep export`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
    plot: Path = typer.Option(None, "--plot", help="Also draw the dashboard's charts as static files (.png, .svg, .pdf): the "
                              "Pareto scatter of each workload to PLOT, each per-axis plot beside it as PLOT-<chart id>."),
) -> None:
    """Table of every stored point: axis values, workload, energy, latency, area, EDP, utilization."""
    from loopnest.cli.common import check_outputs
    from loopnest.dse.store import write_csv

    metrics = _metrics("--pareto", pareto) if pareto is not None else None
    if as_json and as_csv:
        fail("--json and --csv: choose one output format")
    check_outputs(plot=plot)
    rows = _read(store)
    if plot is not None:
        from loopnest.report.dse import sweep_charts
        from loopnest.report.plots import OutputError, save_all

        try:
            for p in save_all(sweep_charts(rows, metrics or ["energy_pj", "cycles"]), plot):
                err_console.print(f"plot: {p}", highlight=False)
        except OutputError as e:
            fail(f"--plot: {e}")
    if metrics is not None:
        from loopnest.dse.analysis import front_rows

        rows = front_rows(rows, metrics)
    if as_csv:
        write_csv(rows, sys.stdout)
    elif as_json:
        print_json({"store": str(store), "pareto": metrics, "rows": rows})
    else:
        _table(rows, store, pareto)


def _read(store: Path) -> list[dict]:
    from loopnest.dse.store import Store, StoreError

    try:
        with Store(store, create=False) as st:
            return st.rows()
    except StoreError as e:
        fail(str(e))


def _metrics(option: str, text: str) -> list[str]:
    from loopnest.dse.pareto import parse_metrics

    try:
        return parse_metrics(text)
    except ValueError as e:
        fail(f"{option}: {e}")


@app.command()
def export(
    store: Path = typer.Argument(..., help="SQLite result store written by `loopnest sweep run`."),
    out: Path = typer.Option(..., "-o", "--output", help="The file to write: .csv or .parquet (Parquet needs pip install 'loopnest[dse]')."),
    pareto: str = typer.Option(None, "--pareto", help="Only the Pareto front (per workload) over 2 or 3 of: energy, latency, area, edp."),
) -> None:
    """Write every stored row (or the Pareto front) as CSV or Parquet: axis values as param:<path> columns."""
    from loopnest.dse.export import ExportError, check_export
    from loopnest.dse.export import export as write

    try:
        check_export(out)
    except ExportError as e:
        fail(f"-o: {e}")
    metrics = _metrics("--pareto", pareto) if pareto is not None else None
    rows = _read(store)
    if metrics is not None:
        from loopnest.dse.analysis import front_rows

        rows = front_rows(rows, metrics)
    try:
        write(rows, out)
    except ExportError as e:
        fail(f"-o: {e}")
    err_console.print(f"{len(rows)} rows written to {out}", highlight=False)


@app.command()
def report(
    store: Path = typer.Argument(..., help="SQLite result store written by `loopnest sweep run`."),
    out: Path = typer.Option(..., "-o", "--output", help="The dashboard: a self-contained .html file."),
    pareto: str = typer.Option("energy,latency", "--pareto", help="Pareto front over 2 or 3 of: energy, latency, area, edp (the scatter shows the first two)."),
) -> None:
    """HTML dashboard of a store: Pareto scatter per workload (hover: the design's axis values),
    per-axis plots, the sensitivity of each metric to each axis, and every row."""
    from loopnest.report.html import ReportError, check_report

    try:
        check_report(out)
    except ReportError as e:
        fail(f"-o: {e}")
    metrics = _metrics("--pareto", pareto)
    rows = _read(store)
    from loopnest.report.dse import write_sweep_report

    try:
        write_sweep_report(rows, metrics, str(store), out)
    except ReportError as e:
        fail(f"-o: {e}")
    err_console.print(f"dashboard of {len(rows)} rows written to {out}", highlight=False)


def _table(rows: list[dict], store: Path, pareto: str | None) -> None:
    from rich.table import Table

    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    units = sorted({r["energy_units"] for r in rows if r["energy_units"]}) or ["pJ"]
    title = f"{store}: {len(rows)} rows" + (f", Pareto front over {pareto} per workload" if pareto else "")
    t = Table(title=title + f"; energy in {', '.join(units)}, latency in cycles, area in um^2")
    for col in ["#", *(p.removeprefix("levels.") for p in params), "workload", "status", "energy", "cycles", "area um^2", "EDP", "util", "reason"]:
        t.add_column(col, justify="left" if col in ("workload", "status", "reason") else "right")
    for r in rows:
        num = [f"{r[m]:.4g}" if r[m] is not None else "" for m in ("energy_pj", "cycles", "area_um2", "edp")]
        util = f"{r['utilization']:.1%}" if r["utilization"] is not None else ""
        t.add_row(str(r["point"]), *[str(r["params"].get(p, "")) for p in params], f"{r['model']} (N={r['batch']})",
                  r["status"], *num, util, r["reason"] or "")
    from rich.console import Console

    (console if console.is_terminal else Console(width=240)).print(t)  # files and pipes: no truncated columns
