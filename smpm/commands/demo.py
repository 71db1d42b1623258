"""`smpm demo`: run the product on the embedded sandbox ITSM."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from smpm.commands import reports_errors
from smpm.demo.clock import DEFAULT_START


class DemoMoment(click.ParamType):
    """`--at`: an RFC 3339 time with its zone, or a date (the story then starts at the default
    time of day, in UTC)."""

    name = "TIME"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                return datetime.combine(day, DEFAULT_START.timetz())
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{text!r} is neither a date (2027-02-28) nor an RFC 3339 time", param, ctx)
        if moment.tzinfo is None:
            self.fail(f"{text!r} has no zone: add Z or an offset such as +01:00", param, ctx)
        if not 1971 <= moment.year <= 9998:
            self.fail(f"{text!r} is outside the years the demo can tell a story in", param, ctx)
        return moment.astimezone(UTC)


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
@click.option(
    "--at",
    "start",
    type=DemoMoment(),
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="The moment the demo's own clock starts at (its story does not depend on today).",
)
@reports_errors
def demo(platform: str, latency_ms: int, reports: Path, start: datetime) -> None:
    """Run smpm end to end on the embedded sandbox ITSM (no server or credentials needed).

    Starts the sandbox with its demo organisation on a free loopback port and shows what the
    connector does against it, step by step, then the procedures, the webhook service and the
    tracking procedures, and ends by writing the managers' reports to --reports.
    """
    from smpm.demo.story import run_demo

    run_demo(
        click.echo,
        reports=reports.resolve(),
        platform=platform,
        latency_ms=latency_ms,
        start=start,
    )
