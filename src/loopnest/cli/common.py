"""Shared CLI helpers: the consoles, one clear error line and a non-zero exit (never a traceback),
output options checked before any work starts, and the options every mapping command shares.

JSON output is strict (``print_json``). The consoles never interpret rich markup: user-facing text (file names, layer names, install
hints such as ``pip install 'loopnest[plot]'``) is printed as written. Styles are applied with
``Text`` objects instead. Their width is the terminal's (or ``COLUMNS``); tables are fitted to it
by :mod:`loopnest.cli.tables`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from loopnest.names import did_you_mean  # noqa: F401  (re-exported for the commands)

console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


MAX_MESSAGE = 1000  # characters of an error line: a guard, the messages themselves quote short excerpts


def fail(message: str, code: int = 2) -> None:
    """Print one error line to stderr (newlines collapsed, at most MAX_MESSAGE characters) and exit non-zero."""
    text = " ".join(message.split())
    text = text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."
    err_console.print(Text.assemble(("error:", "bold red"), " ", text), soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: object, indent: int = 1) -> None:
    """Print ``data`` as strict JSON (RFC 8259), the one way every ``--json`` output is written:
    no ``NaN``/``Infinity`` (``allow_nan=False``) and no value coerced by ``default=``, so a
    result holding one is an error line instead of output a strict parser rejects."""
    try:
        text = json.dumps(data, indent=indent, allow_nan=False)
    except (TypeError, ValueError) as e:
        fail(f"internal error: the result cannot be written as JSON ({e}); please report it")
    print(text)
def warn(message: str) -> None:
    """Print one warning line to stderr."""
    err_console.print(Text.assemble(("warning:", "bold yellow"), " ", message), soft_wrap=True)


def check_outputs(report: Path | str | None = None, plot: Path | str | None = None) -> None:
    """Fail now, before any search, if ``--report`` or ``--plot`` cannot be written: a wrong
    extension, a path that is a folder or not writable, or the package that draws it missing."""
    from loopnest.report.html import check_report
    from loopnest.report.plots import OutputError, check_static

    for option, path, check in (("--report", report, check_report), ("--plot", plot, check_static)):
        if path is not None:
            try:
                check(path)
            except OutputError as e:
                fail(f"{option}: {e}")


def check_folder(option: str, path: str | None) -> None:
    """Fail now, before any search, unless ``path`` is a folder that exists or can be created."""
    from loopnest.report.plots import OutputError, check_can_create

    if path is None:
        return
    if Path(path).exists() and not Path(path).is_dir():
        fail(f"{option}: {path}: is a file; give a folder (created if missing)")
    try:
        check_can_create(path)
    except OutputError as e:
        fail(f"{option}: {e}")


MODEL_HELP = ("Zoo model name (see `loopnest workload list`), an .onnx file, or a YAML network (layers plus edges) "
              "or layer spec file (docs/workload.md).")
LAYER_HELP = ("MODEL:LAYER (e.g. resnet50:layer1.0.conv2; MODEL may be an .onnx file or a YAML network), or a YAML "
              "file holding one layer (docs/workload.md).")


MODE_HELP = ("Mapper mode: exact (proven best in the mapspace: branch and bound with sound floors), "
             "heuristic (seeded sample of the best-bounded choices, no optimality claim) or auto (exact where "
             "the loops below the second level have at most 1e6 choices, where it is quick; heuristic "
             "elsewhere; the output says which ran per layer).")


def _check_mode(mode: str) -> str:
    from loopnest.search.mapper import MODES

    if mode not in MODES:
        fail(f"--mode: {mode!r} is not one of {', '.join(MODES)}{did_you_mean(mode, MODES)}")
    return mode


def write_layer_files(folder: Path, files: list[tuple[str, str]], what: str = "files") -> None:
    """``--mappings``: each (layer name, YAML text) as ``<folder>/<layer>.yaml``, the name made
    safe for a file system; a folder that cannot be written is one line."""
    import re

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files:
            (folder / (re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".yaml")).write_text(text)
    except OSError as e:
        fail(f"--mappings: {folder}: cannot write ({e.strerror})")
    err_console.print(f"mappings: {len(files)} {what} in {folder}")


def mode_option(default: str = "auto") -> typer.models.OptionInfo:
    """The --mode option every mapping command shares (checked: one error line naming the valid modes)."""
    return typer.Option(default, "--mode", help=MODE_HELP, callback=_check_mode)


PRECISION_HELP = ("Bit widths for every layer, e.g. weights=4,inputs=8,outputs=16 (also mac=16: the MAC's operand width, "
                  "accumulator=32: partial sums), or a per-layer precision YAML file; default: the workload's own (16-bit). "
                  "See docs/model.md, Precision.")


def precision_option() -> typer.models.OptionInfo:
    """The --precision option of every command that maps or models."""
    return typer.Option(None, "--precision", help=PRECISION_HELP)


def warn_wider(work, arch) -> None:
    """A warning where the workload's stored widths exceed the operand width ``arch`` computes on
    (zoo networks are 16-bit: on an 8-bit design each value takes two words); printed once a run
    has its results, so an error stays one line."""
    layers = work.layers if hasattr(work, "nodes") else (work,)
    bits = max((t.bits for p in layers for t in p.tensors), default=0)
    native = arch.compute.operand_bits
    if bits > native:
        warn(f"the workload's tensors are {bits}-bit and {arch.name} computes on {native}-bit operands: each value "
             f"is stored in wider words and multiplied at {bits} bits; give --precision weights={native},"
             f"inputs={native},outputs={native} for {native}-bit inference")


def widths(spec: str | None):
    """``--precision``'s (default, per-layer) widths, None without it; one error line on bad input.
    For the studies that build their networks later (the co-design commands)."""
    if spec is None:
        return None
    from loopnest.datafile import DataFileError
    from loopnest.workload.precision import PrecisionError, load_precision

    try:
        return load_precision(spec)
    except (PrecisionError, DataFileError) as e:
        fail(f"--precision: {e}")


def with_precision(work, spec: str | None):
    """A Network or one layer (Problem) at ``--precision``'s widths; one error line on bad input."""
    bits = widths(spec)
    if bits is None:
        return work
    from loopnest.workload.precision import PrecisionError, apply_precision, apply_to_layer

    try:
        return (apply_precision if hasattr(work, "nodes") else apply_to_layer)(work, *bits)
    except PrecisionError as e:
        fail(f"--precision: {e}")



def save_plots(charts, plot) -> None:
    """Write ``charts`` as static figures at ``plot`` (and beside it), naming each file; one error
    line on a bad path or suffix."""
    from loopnest.report.plots import save_all

    try:
        for p in save_all(charts, plot):
            err_console.print(f"plot: {p}", highlight=False)
    except (ValueError, OSError) as e:
        fail(f"--plot: {e}")

DENSITY_HELP = ("Densities (fraction of nonzeros) of the tensors: weights=0.45,inputs=0.3 (uniform random) or "
                "weights=2:4 (N:M), or a per-layer density YAML file (source:, layers: {name: {weights: 0.45}}); "
                "default: dense. Costs follow the architecture's sparse features (docs/model.md, \"Sparsity\").")


def density_option() -> typer.models.OptionInfo:
    """The --density option of every command that maps or models."""
    return typer.Option(None, "--density", help=DENSITY_HELP)


def with_density(work, spec: str | None):
    """A Network or one layer (Problem) at ``--density``'s densities; one error line on bad input."""
    if spec is None:
        return work
    from loopnest.datafile import DataFileError
    from loopnest.workload.density import DensityError, apply_density, apply_to_layer, load_density

    try:
        d = load_density(spec)
        return apply_density(work, d) if hasattr(work, "nodes") else apply_to_layer(work, d)
    except (DensityError, DataFileError) as e:
        fail(f"--density: {e}")


TABLE_HELP = ("Energy table that resolves the architecture's energies and areas: horowitz45 (pJ, 45 nm scaled "
              "to the node) or eyeriss65 (normalized, 1 = one 16-bit MAC); default: the spec's own.")


def table_option() -> typer.models.OptionInfo:
    """The --table option of every command that loads an architecture."""
    return typer.Option(None, "--table", help=TABLE_HELP)


CONSTRAINTS_HELP = ("YAML file of mapspace constraints (the mapping file's syntax, docs/mapper.md, Constraints), met with "
                    "the dataflow's.")
SEED_HELP = "Seed of the heuristic search (the exact search does not depend on it)."
JOBS_HELP = "Mapper worker processes (default: all CPUs); the results do not depend on it."


REMAINDER_FOLDS_HELP = ("Also search partial last folds on the fanouts that are not systolic (a dimension split with a "
                        "remainder, costed as remainder tiles; docs/mapper.md, Remainder and padded folds). Off by default: "
                        "it takes 1.8x the CPU time on ResNet-50 (batch 1) on eyeriss (9.2 against 5.2 s) for 2.5% less "
                        "energy (a fold wins on 31 of 54 layers).")


def remainder_folds_option() -> typer.models.OptionInfo:
    """The --remainder-folds/--no-remainder-folds switch of every command that runs the mapper
    (tests/test_cli_options.py); its default is ``search.mapper.REMAINDER_FOLDS`` (not imported
    here: the CLI starts without numpy), as is a sweep spec's ``mapper.remainder_folds``."""
    return typer.Option(False, "--remainder-folds/--no-remainder-folds", help=REMAINDER_FOLDS_HELP)


def constraints_option() -> typer.models.OptionInfo:
    """The --constraints option of every command that maps (read with :func:`user_constraints`)."""
    return typer.Option(None, "--constraints", help=CONSTRAINTS_HELP)


def seed_option(help: str = SEED_HELP) -> typer.models.OptionInfo:
    """The --seed option of every command that maps."""
    return typer.Option(0, "--seed", help=help)


def jobs_option() -> typer.models.OptionInfo:
    """The --jobs option of every command that maps."""
    return typer.Option(None, "--jobs", min=1, help=JOBS_HELP)


def user_constraints(path: str | None):
    """``--constraints``' file as ``Constraints`` (None without one); one error line on bad input."""
    if path is None:
        return None
    from loopnest.mapping.constraints import ConstraintError, load_constraints

    try:
        return load_constraints(path)
    except ConstraintError as e:
        fail(str(e))  # names the file and the field


def stoppable(command: Callable) -> Callable:
    """``command`` with Ctrl-C (SIGINT) and SIGTERM ending it in one line and exit 128 + the signal
    (130, 143) instead of click's "Aborted!"; commands that keep partial results catch it first."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        import signal

        from loopnest.signals import signum_of

        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt as stop:
            signum = signum_of(stop)
            fail(f"interrupted by {signal.Signals(signum).name}", 128 + signum)

    return run
