"""`smpm review events|outages|capacity|availability|sla` and `smpm reports`: the reviews, as
files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from smpm.commands import CliState, UtcMoment, reports_errors
from smpm.render import findings_table, table
from smpm.store import utcnow

DAYS = click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    help="Review the last N days (default: period_days of the review's settings).",
)


@click.group()
def review() -> None:
    """Write a review report now, as CSV and HTML in [reports] folder.

    `events` is Event Management Procedure 2, Event Review (per monitoring job: events and how
    they ended, noisy jobs flagged); `outages` is Procedure 3, Outage Review (high-impact
    incident requests and whether an event notified anyone). Both read the events the webhook
    intake stored. `capacity` is Capacity Management Procedure 3's capacity tracking overview.
    `availability` is Availability Management Procedure 2's availability tracking overview;
    `sla` is Service Level Management Procedure 5's SLA review.
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


AT = click.option(
    "--at",
    type=UtcMoment(),
    help=f"As of this moment (default: now). {UtcMoment.HELP} The files name it, so a report "
    "as of another moment never replaces the current one.",
)


@review.command("capacity")
@AT
@click.pass_obj
@reports_errors
def review_capacity(state: CliState, at: datetime | None) -> None:
    """Capacity Tracking (Capacity Management P3): the overview with its trend; writes nothing
    to the ITSM (`smpm run capacity.tracking` registers the problem investigations)."""
    _report_now(state, "capacity.tracking", at)


@review.command("availability")
@AT
@click.pass_obj
@reports_errors
def review_availability(state: CliState, at: datetime | None) -> None:
    """Availability Tracking (Availability Management P2): availability and reliability of every
    active SLA per period against its targets; writes nothing to the ITSM (`smpm run
    availability.tracking` links the outages to problem investigations)."""
    _report_now(state, "availability.tracking", at)


@review.command("sla")
@AT
@click.pass_obj
@reports_errors
def review_sla(state: CliState, at: datetime | None) -> None:
    """SLA Review (Service Level Management P5): each active SLA's last evaluation term, SLT by
    SLT, the violated ones with the service owner to contact."""
    _report_now(state, "slm.sla_review", at)


def _report_now(state: CliState, name: str, at: datetime | None) -> None:
    from smpm.reports.reviews import report_now

    written = utcnow()
    moment = at or written
    plan, paths = report_now(state.settings(), name, now=moment, written_at=written)
    _echo_written(findings_table(plan), moment, written, paths)


def _write(state: CliState, which: str, days: float | None) -> None:
    from smpm.reports.reviews import REVIEWS
    from smpm.reports.reviews import review as run_review

    written = utcnow()
    plan, paths = run_review(
        state.settings(), REVIEWS[which], days=days, now=written, written_at=written
    )
    _echo_written(findings_table(plan), written, written, paths)


def _echo_written(findings: str, as_of: datetime, written: datetime, paths: list[Path]) -> None:
    """The findings, then the moment they describe and, apart, when they were written."""
    click.echo(findings)
    click.echo(f"as of {as_of:%Y-%m-%d %H:%M} UTC, written at {written:%Y-%m-%d %H:%M} UTC")
    for path in paths:
        click.echo(f"wrote {path}")


@click.command("reports")
@click.pass_obj
@reports_errors
def reports(state: CliState) -> None:
    """List the review reports written to [reports] folder, newest first."""
    from smpm.reports.files import list_reports

    folder = state.settings().reports.folder
    found = list_reports(folder)
    if not found:
        click.echo(f"no reports in {folder}; `smpm review events` writes one")
        return
    click.echo(
        table(
            ("kind", "period (UTC)", "as of (UTC)", "written (UTC)", "files"),
            (
                (
                    r.kind,
                    r.period,
                    f"{r.as_of:%Y-%m-%d %H:%M}",
                    f"{r.modified:%Y-%m-%d %H:%M}",
                    ", ".join(str(f) for f in r.files),
                )
                for r in found
            ),
            120,
        )
    )
