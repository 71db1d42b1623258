"""`smpm review events|outages` and `smpm reports`: Event Management's reviews, as files."""

from __future__ import annotations

import click

from smpm.commands import CliState, reports_errors
from smpm.render import findings_table, table

DAYS = click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    help="Review the last N days (default: period_days of the review's settings).",
)


@click.group()
def review() -> None:
    """Write an Event Management review report now, as CSV and HTML in [reports] folder.

    `events` is Procedure 2, Event Review (per monitoring job: events and how they ended, noisy
    jobs flagged); `outages` is Procedure 3, Outage Review (high-impact incident requests and
    whether an event notified anyone). Both read the events the webhook intake stored.
    """


@review.command("events")
@DAYS
@click.pass_obj
@reports_errors
def review_events(state: CliState, days: float | None) -> None:
    """Event Review (Event Management P2): events per monitoring job; noisy jobs flagged."""
    _write(state, "events", days)


@review.command("outages")
@DAYS
@click.pass_obj
@reports_errors
def review_outages(state: CliState, days: float | None) -> None:
    """Outage Review (Event Management P3): high-impact outages, and those without an event."""
    _write(state, "outages", days)


def _write(state: CliState, which: str, days: float | None) -> None:
    from smpm.reports import REVIEWS
    from smpm.reports import review as run_review

    plan, paths = run_review(state.settings(), REVIEWS[which], days=days)
    click.echo(findings_table(plan))
    for path in paths:
        click.echo(f"wrote {path}")


@click.command("reports")
@click.pass_obj
@reports_errors
def reports(state: CliState) -> None:
    """List the review reports written to [reports] folder, newest first."""
    from smpm.reports import list_reports

    folder = state.settings().reports.folder
    found = list_reports(folder)
    if not found:
        click.echo(f"no reports in {folder}; `smpm review events` writes one")
        return
    click.echo(
        table(
            ("kind", "period (UTC)", "written (UTC)", "files"),
            (
                (
                    r.kind,
                    r.period,
                    f"{r.modified:%Y-%m-%d %H:%M}",
                    ", ".join(str(f) for f in r.files),
                )
                for r in found
            ),
            120,
        )
    )
