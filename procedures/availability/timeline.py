"""Availability and reliability of one SLA over one tracking period, from outage times (pure).

Availability Management P2: "At the end of an availability tracking period, the availability
manager finds out what the availability and reliability has been over the past period." Here:

- agreed service time: the SLA's service hours within the period, as weekday windows on the
  clock of the SLA's timezone (a daylight-saving day is an hour shorter or longer, as it is
  for the people using the service);
- outage time: the union of the outage incident requests' [start, end), clipped to the period
  and to `now` (an outage still open counts until now), then kept only within service hours.
  Outages that overlap or touch are merged first, so one outage reported by two requests is
  neither counted twice in time nor in number;
- availability = (agreed service time - outage time) / agreed service time;
- reliability: the number of outages (merged outages with some time within service hours), the
  mean time between failures MTBF = up time / outages and the mean time to restore service
  MTTR = outage time / outages (ITIL's definitions over the agreed service time).

Invariants: interval lists are sorted, disjoint and non-empty intervals; `now` is passed in.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from procedures.availability.periods import TrackingPeriod

Interval = tuple[datetime, datetime]
Window = tuple[int, int]  # minutes after local midnight: [start, end), end up to 1440
WeeklyHours = tuple[tuple[Window, ...], ...]  # Monday first, seven entries
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS: WeeklyHours = tuple(((0, 1440),) for _ in WEEKDAYS)
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


# -- intervals ------------------------------------------------------------------------------------
def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union; intervals that overlap or touch become one."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `intervals` within [start, end)."""
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The overlap of two sorted, disjoint interval lists (one pass over both)."""
    found, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            found.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return found


def overlaps(interval: Interval, intervals: Sequence[Interval]) -> bool:
    """Whether `interval` shares time with any of the sorted, disjoint `intervals`."""
    start, end = interval
    at = bisect_right(intervals, (start, start))
    return any(s < end and e > start for s, e in intervals[max(0, at - 1) : at + 1])


def length(intervals: Iterable[Interval]) -> timedelta:
    return sum((e - s for s, e in intervals), timedelta())


# -- service hours --------------------------------------------------------------------------------
def parse_windows(text: str) -> tuple[Window, ...]:
    """'07:00-12:00, 13:00-19:00' -> ((420, 720), (780, 1140)); '' -> no service hours."""
    windows = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        found = _WINDOW.match(part)
        if not found:
            raise ValueError(f"{part!r} is not a window such as '07:00-19:00'")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 1440 or end <= start:
            raise ValueError(f"{part!r}: a window runs forward within one day (up to 24:00)")
        windows.append((start, end))
    windows.sort()
    for before, after in pairwise(windows):
        if after[0] < before[1]:
            raise ValueError(f"{text!r}: windows overlap")
    return tuple(windows)


def _at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Wall-clock time: 07:00 stays 07:00 local on a daylight-saving day."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def service_windows(
    hours: WeeklyHours, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The agreed service time within [start, end), in UTC."""
    return list(_windows(hours, zone, start, end))


@lru_cache(maxsize=4096)
def _windows(
    hours: WeeklyHours, zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[Interval, ...]:
    """Cached: SLAs that share service hours and a calendar share their periods' windows."""
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    found = []
    while day <= last:
        for first, until in hours[day.weekday()]:
            found.append((_at(day, first, zone), _at(day, until, zone)))
        day += timedelta(days=1)
    return tuple(clip(merge(found), start, end))


# -- figures --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outage:
    """One outage incident request: from its start until restored (`end` None: still open)."""

    incident: str
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Figures:
    """What one SLA's service did in one period, up to `now` when the period is under way."""

    period: TrackingPeriod
    agreed: timedelta  # agreed service time in the whole period
    elapsed: timedelta  # agreed service time up to now (all of it once the period is over)
    downtime: timedelta  # outage time within service hours, up to now
    outages: int
    incidents: tuple[str, ...]  # the requests whose outage fell (partly) within service hours
    complete: bool

    @property
    def uptime(self) -> timedelta:
        return self.elapsed - self.downtime

    @property
    def availability(self) -> float | None:
        """Percent of the agreed service time so far that the service was up."""
        if not self.elapsed:
            return None
        return 100 * self.uptime / self.elapsed

    @property
    def mtbf(self) -> timedelta | None:
        return self.uptime / self.outages if self.outages else None

    @property
    def mttr(self) -> timedelta | None:
        return self.downtime / self.outages if self.outages else None


def figures(
    outages: Iterable[Outage],
    period: TrackingPeriod,
    hours: WeeklyHours,
    zone: ZoneInfo,
    now: datetime,
) -> Figures:
    """Availability and reliability of one period (see the module docstring)."""
    until = max(period.start, min(now, period.end))
    agreed = service_windows(hours, zone, period.start, period.end)
    served = clip(agreed, period.start, until)
    found = [o for o in outages if o.start < until and (o.end is None or o.end > period.start)]
    spans = {o.incident: clip([(o.start, o.end or until)], period.start, until) for o in found}
    merged = merge(s for spans_ in spans.values() for s in spans_)
    down = intersect(merged, served)
    counted = sum(1 for outage in merged if overlaps(outage, served))
    incidents = tuple(
        o.incident for o in found if any(overlaps(s, served) for s in spans[o.incident])
    )
    return Figures(
        period=period,
        agreed=length(agreed),
        elapsed=length(served),
        downtime=length(down),
        outages=counted,
        incidents=incidents,
        complete=now >= period.end,
    )


def hours_text(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.2f} h"
