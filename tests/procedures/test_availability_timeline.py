"""Availability Management P2: availability and reliability of hand-made timelines, exactly.

SMPM: "At the end of an availability tracking period, the availability manager finds out what
the availability and reliability has been over the past period." Availability = (agreed service
time - outage time) / agreed service time; reliability = outages, MTBF, MTTR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connector.testing import at
from procedures.availability.periods import (
    last_complete,
    period_at,
    periods_back,
    periods_within,
)
from procedures.availability.timeline import (
    ALWAYS,
    Outage,
    WeeklyHours,
    figures,
    merge,
    parse_windows,
)

UTC = ZoneInfo("UTC")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OFFICE: WeeklyHours = (*(((480, 1080),),) * 5, (), ())  # Mon-Fri 08:00-18:00
NOVEMBER = period_at("month", UTC, at("2026-11-15 00:00"))
END_OF_NOVEMBER = at("2026-12-01 00:00")


def outage(incident: str, start: str, end: str | None = None) -> Outage:
    return Outage(incident, at(start), at(end) if end else None)


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    outages: tuple[Outage, ...]
    agreed: float  # hours
    down: float
    count: int
    incidents: tuple[str, ...]
    hours: WeeklyHours = ALWAYS
    now: datetime = END_OF_NOVEMBER
    elapsed: float | None = None  # hours; None: all of `agreed`
    zone: ZoneInfo = UTC
    period: object = field(default=NOVEMBER)


CASES = [
    Case("no-outages", "no outage: the agreed service time was all up time", (), 720, 0, 0, ()),
    Case(
        "one-outage",
        "outage time from the request's start to its restoration",
        (outage("INC1", "2026-11-10 10:00", "2026-11-10 14:00"),),
        720, 4, 1, ("INC1",),
    ),
    Case(
        "across-the-period-start",
        "only the past period's part of an outage counts (clipped at its start)",
        (outage("INC1", "2026-10-31 22:00", "2026-11-01 03:00"),),
        720, 3, 1, ("INC1",),
    ),
    Case(
        "across-the-period-end",
        "only the past period's part of an outage counts (clipped at its end)",
        (outage("INC1", "2026-11-30 22:00", "2026-12-01 02:00"),),
        720, 2, 1, ("INC1",), now=at("2026-12-01 06:00"),
    ),
    Case(
        "overlapping-outages",
        "two requests for one outage: merged, neither time nor number counted twice",
        (
            outage("INC1", "2026-11-10 10:00", "2026-11-10 14:00"),
            outage("INC2", "2026-11-10 12:00", "2026-11-10 16:00"),
        ),
        720, 6, 1, ("INC1", "INC2"),
    ),
    Case(
        "nested-outages",
        "a request within another's outage adds nothing",
        (
            outage("INC1", "2026-11-10 10:00", "2026-11-10 18:00"),
            outage("INC2", "2026-11-10 11:00", "2026-11-10 12:00"),
        ),
        720, 8, 1, ("INC1", "INC2"),
    ),
    Case(
        "touching-outages",
        "an outage restored as the next starts is one outage",
        (
            outage("INC1", "2026-11-10 10:00", "2026-11-10 12:00"),
            outage("INC2", "2026-11-10 12:00", "2026-11-10 13:00"),
        ),
        720, 3, 1, ("INC1", "INC2"),
    ),
    Case(
        "two-outages",
        "separate outages each count: MTBF = up time / outages, MTTR = outage time / outages",
        (
            outage("INC2", "2026-11-20 10:00", "2026-11-20 12:00"),
            outage("INC1", "2026-11-03 10:00", "2026-11-03 11:00"),
        ),
        720, 3, 2, ("INC2", "INC1"),
    ),
    Case(
        "outside-service-hours",
        "an outage on a Saturday, outside the SLA's service hours, does not count",
        (outage("INC1", "2026-11-14 10:00", "2026-11-14 14:00"),),
        210, 0, 0, (), hours=OFFICE,
    ),
    Case(
        "partly-outside-service-hours",
        "an overnight outage counts its service-hours part (17-18 h and 08-09 h), as one outage",
        (outage("INC1", "2026-11-10 17:00", "2026-11-11 09:00"),),
        210, 2, 1, ("INC1",), hours=OFFICE,
    ),
    Case(
        "open-at-the-period-end",
        "an outage not yet restored counts to the end of the past period",
        (outage("INC1", "2026-11-29 12:00"),),
        720, 36, 1, ("INC1",), now=at("2026-12-01 06:00"),
    ),
    Case(
        "open-in-the-period-under-way",
        "while the period is under way, an open outage counts up to now",
        (outage("INC1", "2026-11-15 18:00"), outage("INC2", "2026-11-20 10:00")),
        720, 6, 1, ("INC1",), now=at("2026-11-16 00:00"), elapsed=360,
    ),
    Case(
        "daylight-saving-month",
        "service hours on the SLA's wall clock: October in Amsterdam has 745 hours",
        (),
        745, 0, 0, (), zone=AMSTERDAM, now=at("2026-11-02 00:00"),
        period=period_at("month", AMSTERDAM, at("2026-10-15 00:00")),
    ),
    Case(
        "local-service-hours",
        "08:00-18:00 in Amsterdam is 07:00-17:00 UTC after the clocks went back (26 Oct)",
        (outage("INC1", "2026-10-26 06:00", "2026-10-26 08:00"),),
        220, 1, 1, ("INC1",), hours=OFFICE, zone=AMSTERDAM, now=at("2026-11-02 00:00"),
        period=period_at("month", AMSTERDAM, at("2026-10-15 00:00")),
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_availability_and_reliability(case: Case) -> None:
    """Each case quotes the rule in its `rule`; figures are exact."""
    fig = figures(case.outages, case.period, case.hours, case.zone, case.now)  # type: ignore[arg-type]
    elapsed = case.agreed if case.elapsed is None else case.elapsed
    assert fig.agreed == timedelta(hours=case.agreed), case.rule
    assert fig.elapsed == timedelta(hours=elapsed)
    assert fig.downtime == timedelta(hours=case.down), case.rule
    assert (fig.outages, fig.incidents) == (case.count, case.incidents), case.rule
    assert fig.availability == pytest.approx(100 * (elapsed - case.down) / elapsed, abs=1e-9)
    if case.count:
        assert fig.mtbf == timedelta(hours=(elapsed - case.down) / case.count)
        assert fig.mttr == timedelta(hours=case.down / case.count)
    else:
        assert (fig.mtbf, fig.mttr) == (None, None)
    assert fig.complete is (case.elapsed is None)


def test_exact_figures_of_one_outage() -> None:
    """4 hours down in a 720-hour month: 99.444...%, MTBF 716 h, MTTR 4 h."""
    fig = figures(CASES[1].outages, NOVEMBER, ALWAYS, UTC, END_OF_NOVEMBER)
    assert fig.availability == pytest.approx(99.44444444444444)
    assert (fig.mtbf, fig.mttr) == (timedelta(hours=716), timedelta(hours=4))


def test_merge_joins_overlapping_and_touching_intervals() -> None:
    a, b, c, d = (at(f"2026-11-10 {h:02d}:00") for h in (1, 2, 3, 4))
    assert merge([(c, d), (a, b), (b, c)]) == [(a, d)]
    assert merge([(a, b), (c, d), (b, b)]) == [(a, b), (c, d)]


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("07:00-19:00", ((420, 1140),)),
        ("13:00-19:00, 07:00-12:00", ((420, 720), (780, 1140))),
        ("00:00-24:00", ((0, 1440),)),
        ("", ()),
    ],
)
def test_service_hours_are_read_as_windows(text: str, windows: tuple) -> None:
    assert parse_windows(text) == windows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7-19", "not a window"),
        ("19:00-07:00", "runs forward"),
        ("08:00-24:30", "runs forward"),
        ("08:00-12:00,11:00-13:00", "overlap"),
    ],
)
def test_bad_service_hours_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_windows(text)


@pytest.mark.parametrize(
    ("kind", "zone", "when", "name", "start", "end"),
    [
        ("month", UTC, "2026-11-15 10:00", "2026-11", "2026-11-01 00:00", "2026-12-01 00:00"),
        ("month", AMSTERDAM, "2026-11-01 00:30", "2026-11", "2026-10-31 23:00", "2026-11-30 23:00"),
        ("week", UTC, "2026-11-25 10:00", "2026-W48", "2026-11-23 00:00", "2026-11-30 00:00"),
        ("quarter", UTC, "2026-11-25 10:00", "2026-Q4", "2026-10-01 00:00", "2027-01-01 00:00"),
        ("year", UTC, "2026-11-25 10:00", "2026", "2026-01-01 00:00", "2027-01-01 00:00"),
    ],
)
def test_periods_follow_the_sla_s_calendar(
    kind: str, zone: ZoneInfo, when: str, name: str, start: str, end: str
) -> None:
    period = period_at(kind, zone, at(when))  # type: ignore[arg-type]
    assert (period.name, period.start, period.end) == (name, at(start), at(end))


def test_periods_back_and_within() -> None:
    names = [p.name for p in periods_back("month", UTC, at("2027-01-10 00:00"), 3)]
    assert names == ["2026-11", "2026-12", "2027-01"]
    assert last_complete("quarter", UTC, at("2027-01-10 00:00")).name == "2026-Q4"
    quarter = period_at("quarter", UTC, at("2026-11-01 00:00"))
    assert [p.name for p in periods_within("month", UTC, quarter)] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    weeks = periods_within("week", UTC, quarter)
    assert (weeks[0].name, weeks[-1].name, len(weeks)) == ("2026-W41", "2026-W53", 13)
