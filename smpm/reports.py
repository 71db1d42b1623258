"""Reviews as files: gather their data, run them, write CSV and HTML reports.

The reviews (`procedures.event.review`) decide from data; this module does their I/O: it reads the
period's monitoring events from the intake store, hands them (and a connector, for the outage
review's incident requests) to the procedure, and writes the report it returns to `[reports]
folder` as `<kind>_<period>.csv` and `.html`. The tracking procedures' overviews and the SLA
review (`report_now`) carry their own data.

A report whose figures are counted up to a moment other than its period's end (a period under
way, or a term reviewed after it ended) also names that moment: `<kind>_<period>_asof<moment>`.
So a report as of another date (`--at`) is written beside the current one, never over it; only a
report of the same kind, period and moment is replaced.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from connector.base import Connector
from connector.errors import ConfigurationError
from procedures.catalog import procedure
from procedures.event.report import (
    Cell,
    Period,
    ReportTable,
    ReviewContext,
    ReviewPlan,
    StoredEvent,
)
from procedures.event.review import EVENT_REVIEW, OUTAGE_REVIEW, event_window
from procedures.registry import Context
from smpm.intake.store import intake
from smpm.report_html import render_html
from smpm.runner import session
from smpm.settings import Settings
from smpm.store import open_engine, utcnow

REVIEWS = {"events": EVENT_REVIEW, "outages": OUTAGE_REVIEW}
MONITORING_ENDPOINTS = ("events", "alertmanager")
STAMP = "%Y%m%dT%H%MZ"
_STEM = re.compile(
    r"^(?P<kind>[a-z-]+)_(?P<start>\d{8}T\d{4}Z)-(?P<end>\d{8}T\d{4}Z)"
    r"(?:_asof(?P<as_of>\d{8}T\d{4}Z))?$"
)
# Spreadsheets run cells starting with these as formulas; a leading ' keeps them text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class WrittenReport:
    kind: str
    period: str
    as_of: datetime  # the moment its figures are counted up to
    files: tuple[Path, ...]
    modified: datetime  # when it was written


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


def write_report(
    report: ReportTable, folder: Path, as_of: datetime, written_at: datetime | None = None
) -> list[Path]:
    """`<folder>/<stem>.csv` and `.html` (`report_stem`), each written whole or not at all;
    `as_of` is the moment the figures are counted up to, `written_at` (default: now) when."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"reports.folder: cannot create {str(folder)!r}: {exc}") from None
    stem = report_stem(report, as_of)
    paths = [folder / f"{stem}.csv", folder / f"{stem}.html"]
    _write(paths[0], render_csv(report))
    _write(paths[1], render_html(report, as_of, written_at or utcnow()))
    return paths


def report_stem(report: ReportTable, as_of: datetime) -> str:
    """Kind and period, and the as-of moment when it is not the period's end."""
    if f"{as_of:{STAMP}}" == f"{report.period.end:{STAMP}}":
        return report.stem
    return f"{report.stem}_asof{as_of:{STAMP}}"


def render_csv(report: ReportTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows([_csv_cell(v) for v in row] for row in report.rows)
    return out.getvalue()


def _csv_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def list_reports(folder: Path) -> list[WrittenReport]:
    """The reports in `folder`, newest first."""
    if not folder.is_dir():
        return []
    groups: dict[str, list[Path]] = {}
    for path in folder.iterdir():
        if path.suffix in (".csv", ".html") and _STEM.match(path.stem):
            groups.setdefault(path.stem, []).append(path)
    found = []
    for stem, files in groups.items():
        match = _STEM.match(stem)
        assert match is not None
        modified = max(f.stat().st_mtime for f in files)
        found.append(
            WrittenReport(
                kind=match["kind"],
                period=f"{_moment(match['start']):%Y-%m-%d %H:%M} to "
                f"{_moment(match['end']):%Y-%m-%d %H:%M}",
                as_of=_moment(match["as_of"] or match["end"]),
                files=tuple(sorted(files)),
                modified=datetime.fromtimestamp(modified, UTC),
            )
        )
    return sorted(found, key=lambda r: (r.modified, r.kind), reverse=True)


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)


@contextmanager
def _connector(settings: Settings, given: Connector | None) -> Iterator[Connector]:
    if given is not None:
        yield given
        return
    with session(settings) as c:
        yield c
