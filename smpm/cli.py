"""The `smpm` command: parse, load settings, call one function, print.

Commands live in `smpm.commands`, one module per topic; errors become a one-line message and
exit status 1 here (`CliState.fail`), never deeper.
"""

from __future__ import annotations

from pathlib import Path

import click

from smpm import logs
from smpm.commands import CliState, check, demo, procedures, reports, sandbox, schedule, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file (default: $SMPM_CONFIG, else ./smpm.toml when present).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="smpm")
@click.pass_context
def main(ctx: click.Context, config: Path | None, verbose: int) -> None:
    """smpm: the decisions of the BMC Service Management Process Model, on your ITSM.

    Runs SMPM procedures (routing, SLA escalation, event handling, problem linking) against
    BMC Remedy ITSM through its REST API, or against the embedded sandbox ITSM.
    """
    level = {0: "WARNING", 1: "INFO"}.get(verbose, "DEBUG")
    logs.configure(level)
    ctx.obj = CliState(config=config, verbose=verbose)


main.add_command(sandbox.sandbox)
main.add_command(check.check)
main.add_command(demo.demo)
main.add_command(procedures.list_procedures)
main.add_command(procedures.run)
main.add_command(procedures.explain)
main.add_command(procedures.audit)
main.add_command(serve.serve)
main.add_command(serve.events)
main.add_command(reports.review)
main.add_command(reports.reports)
main.add_command(schedule.schedule)
