"""`smpm schedule [--list]`: the jobs of [schedule], run in the foreground or listed."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, tzinfo
from typing import Any

import click

from smpm.commands import CliState, reports_errors
from smpm.render import table
from smpm.settings import Settings


@click.command()
@click.option(
    "--list",
    "as_list",
    is_flag=True,
    help="Print each job, its cron, its next run and its last recorded run; start nothing.",
)
@click.pass_obj
@reports_errors
def schedule(state: CliState, as_list: bool) -> None:
    """Run the jobs of [schedule] in the foreground until interrupted (Ctrl-C, SIGTERM).

    Each job runs its procedure on its cron as `smpm run NAME` would (the reviews as `smpm
    review` would), once per period: a period missed while nothing ran is run once at start.
    Every run is in the audit log. One scheduler is active per database: on SQLite a second
    one refuses to start, on PostgreSQL it stands by and takes over when the first stops.
    `smpm serve` runs the same scheduler when [schedule] enabled = true.
    """
    settings = state.settings()
    if as_list:
        click.echo(_listing(settings))
        return
    from smpm import logs
    from smpm.schedule.service import Scheduler, run_until

    logs.configure(settings.logging.level, settings.logging.json_format)

    def ready(scheduler: Scheduler) -> None:
        jobs = ", ".join(scheduler.runner.jobs)
        if scheduler.active:
            click.echo(f"smpm scheduler active: {jobs}; Ctrl-C stops it")
        else:
            click.echo(f"smpm scheduler standing by ({scheduler.lock.holder()}): {jobs}")

    stop = threading.Event()
    with _stopping_on_sigterm(stop):
        try:
            run_until(settings, stop, ready)
        except KeyboardInterrupt:
            click.echo("stopped")


@contextmanager
def _stopping_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (a service manager stopping us) sets `stop`, as Ctrl-C interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _listing(settings: Settings) -> str:
    from smpm.schedule.service import listing

    section = settings.schedule
    if not section.jobs:
        return "no jobs in [schedule]; config/smpm.example.toml shows how to add them"
    zone = section.zone()
    serve = "runs" if section.enabled else "does not run"
    rows = [
        (
            job.name,
            job.procedure + (" (dry run)" if job.dry_run else ""),
            job.cron,
            f"due now (period {_at(job.owed, zone)})" if job.owed else _at(job.next_run, zone),
            _last(job.last, zone),
        )
        for job in listing(settings)
    ]
    enabled = str(section.enabled).lower()
    head = f"times in {section.timezone}; `smpm serve` {serve} these (enabled = {enabled})"
    return head + "\n" + table(("job", "procedure", "cron", "next run", "last run"), rows, 70)


def _at(moment: datetime | None, zone: tzinfo) -> str:
    return "never" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def _last(row: Mapping[str, Any] | None, zone: tzinfo) -> str:
    if row is None:
        return "never"
    ran = f"{_at(row['fire_time'], zone)} {row['outcome']}"
    return f"{ran}: {row['detail']}" if row["detail"] else ran
