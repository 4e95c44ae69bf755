"""The `loopnest` command-line program. Presentation only: no modeling logic lives here.

Each command group lives in its own module and is registered here; modules import the heavy
layers inside their commands so that `loopnest --help` stays fast.
"""

from __future__ import annotations

import typer

from loopnest.cli import arch_cmd, compare_cmd, evaluate_cmd, eyexam_cmd, model_cmd, roofline_cmd, validate_cmd, workload_cmd
from loopnest.cli.common import stoppable

app = typer.Typer(
    name="loopnest",
    help="Evaluate and co-design DNN accelerators: workloads, architectures, mappings, costs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(workload_cmd.app, name="workload")
app.add_typer(arch_cmd.app, name="arch")
app.command("validate")(validate_cmd.validate)
app.command("model")(model_cmd.model)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("compare-dataflows")(compare_cmd.compare_dataflows)
app.command("eyexam")(eyexam_cmd.eyexam)
app.command("roofline")(roofline_cmd.roofline)


for _info in [*app.registered_commands, *(c for g in app.registered_groups for c in g.typer_instance.registered_commands)]:
    _info.callback = stoppable(_info.callback)  # one line and exit 130/143 on SIGINT/SIGTERM, in every command


def main() -> None:
    from loopnest.signals import install

    install()
    app()
