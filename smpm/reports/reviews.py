"""Reviews as files: gather their data, run them, write their CSV and HTML reports.

The reviews (`procedures.event.review`) decide from data; this module does their I/O: it reads the
period's monitoring events from the intake store, hands them (and a connector, for the outage
review's incident requests) to the procedure, and has the report it returns written to
`[reports] folder` (`smpm.reports.files`). The tracking procedures' overviews and the SLA review
(`report_now`) carry their own data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from connector.base import Connector
from connector.errors import ConfigurationError
from procedures.catalog import procedure
from procedures.event.report import Period, ReviewContext, ReviewPlan, StoredEvent
from procedures.event.review import EVENT_REVIEW, OUTAGE_REVIEW, event_window
from procedures.registry import Context
from smpm.intake.store import intake
from smpm.platforms import session
from smpm.reports.files import write_report
from smpm.settings import Settings
from smpm.store import open_engine, utcnow

REVIEWS = {"events": EVENT_REVIEW, "outages": OUTAGE_REVIEW}
MONITORING_ENDPOINTS = ("events", "alertmanager")


def stored_events(engine: Engine, window: Period) -> list[StoredEvent]:
    """Monitoring events the intake finished (status done) that arrived within `window`."""
    query = (
        select(intake.c.id, intake.c.received_at, intake.c.payload, intake.c.outcome)
        .where(
            intake.c.endpoint.in_(MONITORING_ENDPOINTS),
            intake.c.status == "done",
            intake.c.received_at >= window.start,
            intake.c.received_at < window.end,
        )
        .order_by(intake.c.id)
    )
    with engine.connect() as conn:
        return [StoredEvent.model_validate(dict(row)) for row in conn.execute(query).mappings()]


def review_period(settings: Settings, name: str, days: float | None, now: datetime) -> Period:
    """The `days` (default: the review's `period_days`) up to `now`."""
    config = settings.procedures().event
    default = config.review if name == EVENT_REVIEW else config.outage_review
    return Period.ending(now, days or default.period_days)


def review(
    settings: Settings,
    name: str,
    *,
    days: float | None = None,
    now: datetime | None = None,
    connector: Connector | None = None,
    written_at: datetime | None = None,
) -> tuple[ReviewPlan, list[Path]]:
    """Run one review for the `days` before `now` and write its report; returns both."""
    moment = now or utcnow()
    period = review_period(settings, name, days, moment)
    config = settings.procedures()
    window = event_window(period, config.event.outage_review) if name == OUTAGE_REVIEW else period
    engine = open_engine(settings.database.url)
    try:
        events = stored_events(engine, window)
    finally:
        engine.dispose()
    run = procedure(name).run
    assert run is not None
    with _connector(settings, connector) as c:
        trigger = f"review:{period.label}"
        plan = run(ReviewContext(c, config, moment, trigger, period=period, events=events))
    return _written(settings, name, plan, moment, written_at)


def report_now(
    settings: Settings,
    name: str,
    *,
    now: datetime | None = None,
    connector: Connector | None = None,
    written_at: datetime | None = None,
) -> tuple[ReviewPlan, list[Path]]:
    """Run a procedure whose plan carries its report (Availability Tracking, Capacity Tracking,
    SLA Review) as of `now` and write the report; its actions are not applied (`smpm run NAME`
    applies them and writes the same report)."""
    moment = now or utcnow()
    run = procedure(name).run
    assert run is not None
    with _connector(settings, connector) as c:
        plan = run(Context(c, settings.procedures(), moment, f"review:{moment.isoformat()}"))
    return _written(settings, name, plan, moment, written_at)


def _written(
    settings: Settings,
    name: str,
    plan: object,
    moment: datetime,
    written_at: datetime | None,
) -> tuple[ReviewPlan, list[Path]]:
    """The plan and the files its report was written to (a review must carry one)."""
    if not isinstance(plan, ReviewPlan) or plan.report is None:
        raise ConfigurationError(f"{name} returned no report")
    return plan, write_report(plan.report, settings.reports.folder, moment, written_at)


@contextmanager
def _connector(settings: Settings, given: Connector | None) -> Iterator[Connector]:
    if given is not None:
        yield given
        return
    with session(settings) as c:
        yield c
