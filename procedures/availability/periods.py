"""Tracking periods and evaluation terms: calendar spans in an SLA's timezone, held in UTC.

An SLA's month starts at local midnight on the 1st where its customer is, not in UTC, so a period
is cut on the local calendar and then converted: a month in Europe/Amsterdam runs from
2026-10-31 23:00 UTC to 2026-11-30 23:00 UTC. Weeks start on Monday (ISO 8601).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month", "quarter", "year"]
MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True, order=True)
class TrackingPeriod:
    """[start, end) in UTC, named as people say it: '2026-11', '2026-W48', '2026-Q4', '2026'."""

    start: datetime
    end: datetime
    name: str

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end


def _first_day(kind: PeriodKind, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def _next_first_day(kind: PeriodKind, first: date) -> date:
    if kind == "week":
        return first + timedelta(days=7)
    months = first.year * 12 + first.month - 1 + MONTHS[kind]
    return date(months // 12, months % 12 + 1, 1)


def _name(kind: PeriodKind, first: date) -> str:
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first:%Y-%m}"
    if kind == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def _utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def period_at(kind: PeriodKind, zone: ZoneInfo, when: datetime) -> TrackingPeriod:
    """The period of `kind` that contains `when`, cut on the calendar of `zone`."""
    first = _first_day(kind, when.astimezone(zone).date())
    after = _next_first_day(kind, first)
    return TrackingPeriod(_utc(first, zone), _utc(after, zone), _name(kind, first))


def periods_back(
    kind: PeriodKind, zone: ZoneInfo, now: datetime, count: int
) -> list[TrackingPeriod]:
    """The `count` periods up to the one under way at `now`, oldest first."""
    found = [period_at(kind, zone, now)]
    while len(found) < count:
        found.append(period_at(kind, zone, found[-1].start - timedelta(microseconds=1)))
    return found[::-1]


def last_complete(kind: PeriodKind, zone: ZoneInfo, now: datetime) -> TrackingPeriod:
    """The most recent period that has ended by `now` (an evaluation term under review)."""
    return period_at(kind, zone, period_at(kind, zone, now).start - timedelta(microseconds=1))


def periods_within(kind: PeriodKind, zone: ZoneInfo, span: TrackingPeriod) -> list[TrackingPeriod]:
    """The periods of `kind` that start within `span` (a term's tracking periods), in order."""
    found = []
    current = period_at(kind, zone, span.start)
    if current.start < span.start:
        current = period_at(kind, zone, current.end)
    while current.start < span.end:
        found.append(current)
        current = period_at(kind, zone, current.end)
    return found
