"""Event Management, Procedure 2, Event Review, and Procedure 3, Outage Review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from connector.entities import IncidentRequest
from connector.enums import Impact, IncidentStatus, ServiceType
from connector.errors import ConfigurationError
from connector.testing import FakeConnector, incident
from procedures.config import ProceduresConfig
from procedures.event.handling import Situation, decide, outcome_code
from procedures.event.report import Period, ReviewContext, StoredEvent
from procedures.event.review import (
    EventReviewConfig,
    OutageReviewConfig,
    event_review,
    outage_review,
    outages,
    run_event_review,
    run_outage_review,
)
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory
from tests.procedures.test_event_handling import APP, ASSIGNMENT, CASES

PERIOD = Period.ending(NOW, 7)
CONFIG = EventReviewConfig(min_events=4, max_events_per_incident=3, max_quiet_share=0.75)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_event_handling_outcome_has_a_code(case: Any) -> None:
    """The codes Event Review counts by are the ones P1's findings map to, for every branch."""
    fields = {"occurrence": 1, "ci": APP, "services": ["Online Banking"], **case.situation}
    plan = decide(Situation(event=case.event, **fields), directory(), case.config, ASSIGNMENT)
    assert outcome_code(plan.findings[0].outcome) in {
        "new_incident",
        "repeat",
        "attributed",
        "planned",
        "information",
        "clear",
    }


def stored(
    n: int,
    code: str,
    *,
    source: str = "zabbix",
    type: str = "cpu",
    metric: str | None = "cpu.util",
    ago: timedelta = timedelta(hours=1),
    text: str = "",
) -> list[StoredEvent]:
    payload = {"source": source, "type": type, "metric": metric, "severity": "warning"}
    outcome = text or f"[{code}] something ({code})"
    return [
        StoredEvent(
            id=f"{code}-{source}-{type}-{i}",
            received_at=NOW - ago,
            payload=payload,
            outcome=outcome,
        )
        for i in range(n)
    ]


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    events: list[StoredEvent]
    noisy: bool
    why: str = ""


REVIEW_CASES = [
    Case(
        "storm-per-incident-is-noisy",
        "to identify: monitoring jobs that generate unnecessary events",
        stored(1, "new_incident") + stored(5, "repeat"),
        True,
        "6.0 events per incident request (more than 3)",
    ),
    Case(
        "no-incident-at-all-is-noisy",
        "monitoring jobs that generate unnecessary events",
        stored(4, "repeat"),
        True,
        "4 events and no new incident request",
    ),
    Case(
        "mostly-information-is-noisy",
        "monitoring jobs that generate unnecessary events (closed as information or planned)",
        stored(2, "new_incident") + stored(3, "information") + stored(3, "planned"),
        True,
        "6 of 8 events closed as information or planned (at least 75%)",
    ),
    Case(
        "each-event-an-incident-is-fine",
        "events that each warn of an incident are what monitoring is for",
        stored(4, "new_incident"),
        False,
    ),
    Case(
        "few-events-are-never-flagged",
        "min_events keeps a single stray event from flagging its job",
        stored(3, "information"),
        False,
    ),
    Case(
        "outside-the-period-is-not-counted",
        "The operations manager regularly reviews all events that have been handled",
        stored(9, "information", ago=timedelta(days=8)),
        False,
    ),
]


@pytest.mark.parametrize("case", REVIEW_CASES, ids=[c.id for c in REVIEW_CASES])
def test_event_review_flags_noisy_jobs(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = event_review(case.events, PERIOD, CONFIG, "t")
    flagged = [f for f in plan.findings if f.outcome == "noisy monitoring job"]
    assert bool(flagged) == case.noisy
    if case.noisy:
        assert flagged[0].record == "job zabbix / cpu / cpu.util"
        assert case.why in flagged[0].because
        assert flagged[0].because.startswith("Event Management P2 Event Review: ")
    assert plan.actions == []


def test_the_report_counts_per_job_how_events_ended() -> None:
    events = (
        stored(2, "new_incident")
        + stored(1, "attributed", source="nagios", type="ping", metric=None)
        + stored(1, "clear", text="noted on INC7 (the condition cleared)")  # stored before codes
        + stored(1, "weird", text="[weird] ?")
    )
    report = event_review(events, PERIOD, CONFIG, "t").report
    assert report is not None and report.stem == f"event-review_{PERIOD.label}"
    by_job = {row[:3]: dict(zip(report.columns, row, strict=True)) for row in report.rows}
    zabbix = by_job[("zabbix", "cpu", "cpu.util")]
    assert (zabbix["events"], zabbix["new_incident"], zabbix["clear"], zabbix["other"]) == (
        4,
        2,
        1,
        1,
    )
    assert zabbix["events_per_incident"] == 2.0
    assert by_job[("nagios", "ping", "")]["attributed"] == 1
    assert report.chart[0] == ("zabbix / cpu / cpu.util", 4.0)
    assert dict(report.figures)["events"] == 5


def test_a_review_needs_the_stored_events() -> None:
    """A plain Context has no intake store: the review says how to run it instead."""
    ctx = Context(FakeConnector(), ProceduresConfig(), NOW)
    with pytest.raises(ConfigurationError, match="smpm review events"):
        run_event_review(ctx)
    review = ReviewContext(FakeConnector(), ProceduresConfig(), NOW, events=stored(1, "repeat"))
    plan = run_event_review(review)
    assert plan.report is not None and plan.report.period == PERIOD


# -- Outage Review --------------------------------------------------------------------------------
def outage(id: str, **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "id": id,
        "summary": f"Outage {id}",
        "service": "Online Banking",
        "impact": Impact.SIGNIFICANT,
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "status": IncidentStatus.CLOSED,
        "reported_at": NOW - timedelta(days=2, hours=3),
        "resolved_at": NOW - timedelta(days=2),
    }
    return incident(**{**base, **fields})


OUTAGE_CASES = [
    (
        "raised-by-an-event",
        outage("INC1", event_key="zabbix/web/http"),
        [],
        "raised by event zabbix/web/http",
    ),
    (
        "an-event-attributed-to-it",
        outage("INC2"),
        stored(1, "attributed", text="[attributed] linked to INC2 (db-node-01 depends on ...)"),
        "event attributed-zabbix-cpu-0 attributed to it",
    ),
    ("no-event", outage("INC3"), stored(1, "repeat", text="[repeat] repeat of INC33 (...)"), ""),
]


@pytest.mark.parametrize(
    ("record", "events", "event"), [c[1:] for c in OUTAGE_CASES], ids=[c[0] for c in OUTAGE_CASES]
)
def test_outage_review_asks_whether_an_event_was_generated(
    record: IncidentRequest, events: list[StoredEvent], event: str
) -> None:
    """'For each of these incident requests, the operations manager first determines whether or
    not an event was generated to notify the service provider organization of the outage.'"""
    plan = outage_review([record], events, PERIOD, "t")
    report = plan.report
    assert report is not None
    row = dict(zip(report.columns, report.rows[0], strict=True))
    assert row["event"] == event
    assert report.flagged == (not event,)
    no_event = [f for f in plan.findings if f.outcome == "no event"]
    assert [f.record for f in no_event] == ([] if event else [record.id])
    if not event:
        assert no_event[0].because.startswith("Event Management P3 Outage Review: a significant")


def test_outages_are_high_impact_restorations_resolved_in_the_period() -> None:
    """'all high-impact incident requests (i.e. all service outages that affected multiple
    users) ... that were resolved during the past review period'."""
    fake = FakeConnector().add(
        outage("INC1"),
        outage(
            "INC2", impact=Impact.EXTENSIVE, service_type=ServiceType.INFRASTRUCTURE_RESTORATION
        ),
        outage("INC3", impact=Impact.MODERATE),
        outage("INC4", service_type=ServiceType.USER_SERVICE_REQUEST),
        outage("INC5", resolved_at=NOW - timedelta(days=9)),
        outage("INC6", resolved_at=None, status=IncidentStatus.IN_PROGRESS),
    )
    found = fake.find(IncidentRequest, outages(PERIOD, OutageReviewConfig()))
    assert [i.id for i in found] == ["INC1", "INC2"]
    ctx = ReviewContext(fake, ProceduresConfig(), NOW, events=[])
    plan = run_outage_review(ctx)
    assert plan.report is not None
    assert dict(plan.report.figures) == {
        "high-impact outages": 2,
        "with an event": 0,
        "without an event": 2,
    }
    assert plan.report.chart == (("Online Banking", 2.0),)
    assert "resolved_at" in set(outages(PERIOD, OutageReviewConfig()).fields())
