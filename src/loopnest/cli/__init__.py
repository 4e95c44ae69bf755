"""The `loopnest` command-line program. Presentation only: no modeling logic lives here.

Each command group lives in its own module and is registered here; modules import the heavy
layers inside their commands so that `loopnest --help` stays fast.
"""

from __future__ import annotations

import typer

from loopnest.cli import arch_cmd, codesign_cmd, compare_cmd, evaluate_cmd, eyexam_cmd, import_cmd, model_cmd, pim_cmd, prune_compare_cmd, roofline_cmd, sweep_cmd, validate_cmd, workload_cmd
from loopnest.cli.common import stoppable

app = typer.Typer(
    name="loopnest",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(workload_cmd.app, name="workload")
app.add_typer(arch_cmd.app, name="arch")
codesign_cmd.app.command("pim-study")(pim_cmd.pim_study)
codesign_cmd.app.command("prune-compare")(prune_compare_cmd.prune_compare)
app.add_typer(codesign_cmd.app, name="codesign")
app.add_typer(sweep_cmd.app, name="sweep")
app.add_typer(import_cmd.app, name="import")
app.add_typer(import_cmd.export_app, name="export")
app.command("validate")(validate_cmd.validate)
app.command("model")(model_cmd.model)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("compare-dataflows")(compare_cmd.compare_dataflows)
app.command("eyexam")(eyexam_cmd.eyexam)
app.command("roofline")(roofline_cmd.roofline)


for _info in [*app.registered_commands, *(c for g in app.registered_groups for c in g.typer_instance.registered_commands)]:
    _info.callback = stoppable(_info.callback)  # one line and exit 130/143 on SIGINT/SIGTERM, in every command


def _version(value: bool) -> None:
    if value:
        from loopnest import __version__

        typer.echo(f"loopnest {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                       callback=_version)) -> None:
    """Evaluate and co-design DNN accelerators: workloads, architectures, mappings, costs.

    Example: loopnest evaluate resnet50 --arch eyeriss
    """


def _tidy(cmd) -> None:
    """Help without bogus types: flags show none (not "<bool>"), arguments show their name; a
    docstring's paragraphs are rewrapped to the terminal (not broken where the source wraps)."""
    if cmd.help:
        cmd.help = "\n\n".join(" ".join(par.split()) for par in cmd.help.split("\n\n"))
    for p in cmd.params:
        if getattr(p, "is_flag", False):
            p.metavar = ""
        elif p.param_type_name == "argument" and p.metavar is None:
            p.metavar = p.name.upper()
    make_help = cmd.get_help_option

    def help_option(ctx, _make=make_help):
        opt = _make(ctx)
        if opt is not None:
            opt.metavar = ""
        return opt

    cmd.get_help_option = help_option
    for sub in getattr(cmd, "commands", {}).values():
        _tidy(sub)


def command():
    """The program as a click command (what `loopnest` and `python -m loopnest` run)."""
    cmd = typer.main.get_command(app)
    _tidy(cmd)
    return cmd


def main() -> None:
    from loopnest.signals import install

    install()
    command()(prog_name="loopnest")
