"""Availability Management P2: availability and reliability targets met, in danger or violated.

SMPM: "If the availability manager found out that the availability or reliability target of one
or more SLAs is in danger of being violated, or if it has already been violated ...".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connector.testing import at
from procedures.availability.config import SlaDefinition
from procedures.availability.periods import period_at
from procedures.availability.targets import DangerRule, Verdict, checks, worst
from procedures.availability.timeline import ALWAYS, Outage, figures

NOVEMBER = period_at("month", ZoneInfo("UTC"), at("2026-11-15 00:00"))
ENDED = at("2026-12-01 00:00")
THIRD = at("2026-11-11 00:00")  # 240 of 720 hours: a third of the month has passed


def down(*spans: tuple[str, str]) -> list[Outage]:
    return [Outage(f"INC{n}", at(s), at(e)) for n, (s, e) in enumerate(spans, 1)]


FOUR_HOURS = down(("2026-11-10 10:00", "2026-11-10 14:00"))
ALLOWANCE = down(("2026-11-10 10:00", "2026-11-10 13:36"))  # 3.6 h: 99.5% of 720 h exactly
TWO_HOURS = down(("2026-11-10 10:00", "2026-11-10 12:00"))
THREE_SHORT = down(
    ("2026-11-03 10:00", "2026-11-03 11:00"),
    ("2026-11-05 10:00", "2026-11-05 11:00"),
    ("2026-11-07 10:00", "2026-11-07 11:00"),
)
SLOW = down(("2026-11-03 10:00", "2026-11-03 13:00"), ("2026-11-05 10:00", "2026-11-05 16:00"))


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    targets: dict[str, Any]
    outages: list[Outage]
    now: datetime
    verdict: Verdict
    why: str
    share: float = 1.0


CASES = [
    Case(
        "availability-violated", "the outage time exceeds what the availability target allows",
        {"availability_target": 99.5}, FOUR_HOURS, ENDED, Verdict.VIOLATED,
        "4.00 h of outage exceed the 3.60 h of outage the 99.5% target allows",
    ),
    Case(
        "availability-met-at-the-allowance", "exactly the allowance is still the target met",
        {"availability_target": 99.5}, ALLOWANCE, ENDED, Verdict.MET, "3.60 h of outage within",
    ),
    Case(
        "availability-in-danger", "projected to be violated by the period's end at this rate",
        {"availability_target": 99.5}, TWO_HOURS, THIRD, Verdict.IN_DANGER,
        "at the current rate 6.00 h of outage by the period's end",
    ),
    Case(
        "availability-too-early-to-project", "no projection before 20% of the period passed",
        {"availability_target": 99.5}, down(("2026-11-01 10:00", "2026-11-01 12:00")),
        at("2026-11-02 00:00"), Verdict.MET,
        "2.00 h of outage within",
    ),
    Case(
        "availability-violated-before-the-end", "violated once the allowance is used up",
        {"availability_target": 99.5}, FOUR_HOURS, THIRD, Verdict.VIOLATED, "exceed",
    ),
    Case(
        "availability-in-danger-by-share", "danger_share 0.8: above 80% of the allowance used",
        {"availability_target": 99.5}, down(("2026-11-10 10:00", "2026-11-10 13:00")), ENDED,
        Verdict.IN_DANGER, "more than 80% of the 3.60 h", share=0.8,
    ),
    Case(
        "outages-violated", "more outages than the reliability target allows",
        {"max_outages": 2}, THREE_SHORT, ENDED, Verdict.VIOLATED,
        "3 outages, more than the 2 allowed",
    ),
    Case(
        "outages-in-danger", "one outage in a third of the month: three by its end",
        {"max_outages": 2}, TWO_HOURS, THIRD, Verdict.IN_DANGER,
        "at the current rate 3.0 outages by the period's end",
    ),
    Case(
        "mttr-violated", "restoring took 4.5 h on average, the target is 4 h",
        {"mttr_hours": 4}, SLOW, ENDED, Verdict.VIOLATED, "4.50 h to restore service on average",
    ),
    Case(
        "mttr-in-danger-while-under-way", "shorter outages may follow: in danger, not violated",
        {"mttr_hours": 4}, SLOW, THIRD, Verdict.IN_DANGER, "so far, over 100% of the maximum",
    ),
    Case(
        "mtbf-violated", "717 h up over 3 outages: 239 h between failures, the target is 300 h",
        {"mtbf_hours": 300}, THREE_SHORT, ENDED, Verdict.VIOLATED,
        "239.00 h between failures even if no other outage follows",
    ),
    Case(
        "mtbf-in-danger", "239 h between failures so far; the rest of the month would lift it",
        {"mtbf_hours": 300}, down(("2026-11-10 10:00", "2026-11-10 11:00")), THIRD,
        Verdict.IN_DANGER, "239.00 h between failures so far",
    ),
    Case(
        "no-outage-meets-reliability", "no outage: MTBF and MTTR targets are met",
        {"mtbf_hours": 300, "mttr_hours": 1}, [], ENDED, Verdict.MET, "no outage",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_verdicts(case: Case) -> None:
    sla = SlaDefinition(name="Gold", service="Online Banking", **case.targets)
    fig = figures(case.outages, NOVEMBER, ALWAYS, ZoneInfo("UTC"), case.now)
    found = checks(fig, sla, DangerRule(share=case.share, min_elapsed=0.2))
    assert worst(found) is case.verdict, case.rule
    assert any(case.why in c.why for c in found), [c.why for c in found]


def test_a_period_without_agreed_service_time_has_no_verdict() -> None:
    sla = SlaDefinition(
        name="Gold", service="Payroll", availability_target=99.0, service_hours={"mon": ""}
    )
    fig = figures([], NOVEMBER, sla.hours(), ZoneInfo("UTC"), ENDED)
    assert checks(fig, sla, DangerRule()) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "sets no availability_target"),
        ({"availability_target": 99, "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"availability_target": 99, "service_hours": {"mon": "9-17"}}, "mon: '9-17'"),
        ({"availability_target": 101}, "less than or equal to 100"),
        ({"slt_titles": ["(unclosed"]}, "not a regular expression"),
    ],
)
def test_bad_sla_definitions_say_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaDefinition(name="Gold", service="Online Banking", **fields)
