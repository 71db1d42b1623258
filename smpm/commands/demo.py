"""`smpm demo`: run the product on the embedded sandbox ITSM."""

from __future__ import annotations

from pathlib import Path

import click

from smpm.commands import reports_errors


@click.command()
@click.option(
    "--platform",
    type=click.Choice(["remedy", "servicenow"]),
    default="remedy",
    show_default=True,
    help="Which face of the sandbox the demo talks to: Remedy's AR API or ServiceNow's Table API.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(0, 5000),
    default=0,
    show_default=True,
    help="Add this much latency to every sandbox answer, as a remote ITSM would.",
)
@click.option(
    "--reports",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    default=Path("smpm-demo-reports"),
    show_default=True,
    help="Folder for the reports the demo writes (CSV and HTML); created if missing.",
)
@reports_errors
def demo(platform: str, latency_ms: int, reports: Path) -> None:
    """Run smpm end to end on the embedded sandbox ITSM (no server or credentials needed).

    Starts the sandbox with its demo organisation on a free loopback port and shows what the
    connector does against it, step by step, then the procedures, the webhook service and the
    tracking procedures, and ends by writing the managers' reports to --reports.
    """
    from smpm.demo import run_demo

    run_demo(click.echo, reports=reports.resolve(), platform=platform, latency_ms=latency_ms)
