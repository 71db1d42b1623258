"""Incident Management P4, Incident Request Resolution by Specialist, on the sandbox ITSM over
HTTP (each face: Remedy and ServiceNow): a recurring workaround informs the problem coordinator
through the related problem investigation, never an unrelated one, and never relinks a request.

SMPM: "if the incident request was resolved using a workaround, and the specialist believes that
the incident for which the workaround was provided is likely to recur, he/she informs the problem
coordinator of the affected service to ensure that action is taken to prevent future
occurrences."

The sandbox runs on a fixed clock and every run decides as of that clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation
from connector.enums import (
    Impact,
    IncidentStatus,
    ProblemStatus,
    RelationType,
    ReportedSource,
    ServiceType,
    Urgency,
)
from connector.filters import Field
from sandbox.server import DEMO_USER, Sandbox
from smpm.executor import RunReport
from smpm.runner import run_procedure
from smpm.settings import Settings
from tests.clocks import TestClock
from tests.integration.conftest import clocked_sandbox, open_for, platform_settings

pytestmark = pytest.mark.integration
NAME = "incident.resolution"
CI = "web-bank-02"
# A workaround, as each platform records it: Remedy's status reason, ServiceNow's close code.
WORKAROUND = {"remedy": "Temporary Corrective Action", "servicenow": "Workaround provided"}
SYMPTOM = "software"  # the requests' category (a ServiceNow incident category value)
START = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)  # the sandbox's clock


clock, sandbox = clocked_sandbox(START)


@pytest.fixture
def settings(platform: str, sandbox: Sandbox, tmp_path: Path) -> Settings:
    resolution = {"workaround_reasons": [WORKAROUND[platform]]}
    return platform_settings(platform, sandbox, tmp_path, incident={"resolution": resolution})


def run(settings: Settings, clock: TestClock) -> RunReport:
    return run_procedure(settings, NAME, now=clock.moment)


def request(summary: str, **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "summary": summary,
        "status": IncidentStatus.IN_PROGRESS,
        "impact": Impact.MODERATE,
        "urgency": Urgency.MEDIUM,
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "reported_source": ReportedSource.PHONE,
        "customer": DEMO_USER,
        "service": "Online Banking",
        "ci": CI,
        "operational_category_1": SYMPTOM,
        "assigned_group": "Application Support",
    }
    return IncidentRequest(**{**base, **fields})


def problem(itsm: Connector, summary: str, category: str) -> ProblemInvestigation:
    """An open problem investigation on the CI, categorised `category` (set by an update: the
    categorisation is on Remedy's problem form)."""
    created = itsm.create(
        ProblemInvestigation(
            summary=summary,
            status=ProblemStatus.UNDER_INVESTIGATION,
            impact=Impact.MODERATE,
            urgency=Urgency.MEDIUM,
            service="Online Banking",
            ci=CI,
        )
    )
    itsm.update(ProblemInvestigation, str(created.id), {"operational_category_1": category})
    return created


def link(itsm: Connector, incident: str, problem_id: str) -> None:
    itsm.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id=incident,
            target_kind=RecordKind.PROBLEM,
            target_id=problem_id,
            relation_type=RelationType.RELATED_TO,
        )
    )


def problems_of(itsm: Connector, incident: str) -> list[str]:
    where = (Field("source_id") == incident) & (Field("target_kind") == RecordKind.PROBLEM)
    return sorted(r.target_id for r in itsm.find(Relation, where, within=RecordKind.INCIDENT))


def recurring_workaround(itsm: Connector, platform: str, clock: TestClock) -> str:
    """Two page timeouts on the CI, then a third resolved with a workaround an hour later."""
    for n in (1, 2):
        itsm.create(request(f"Banking page times out ({n})"))
    clock.advance(hours=1)
    number = str(itsm.create(request("Banking page times out again")).id)
    changes = {"status_reason": WORKAROUND[platform], "resolution": "Restarted the web pool"}
    itsm.update(IncidentRequest, number, {"status": IncidentStatus.RESOLVED, **changes})
    clock.advance(hours=1)
    return number


def steps(report: RunReport) -> list[tuple[str, str]]:
    return [(o.action.step, o.outcome) for o in report.outcomes]


CAPACITY = "[capacity] web-bank-02 / cpu: utilisation 93% exceeds threshold 85%"


def test_a_capacity_problem_on_the_ci_is_not_informed_a_new_one_is(
    platform: str, settings: Settings, sandbox: Sandbox, clock: TestClock
) -> None:
    """A capacity problem on the same CI is about another symptom: a problem investigation is
    registered for the recurring one, the request linked to it and its coordinator informed;
    the same run again writes nothing."""
    with open_for(platform, sandbox) as itsm:
        capacity = problem(itsm, CAPACITY, "hardware")
        number = recurring_workaround(itsm, platform, clock)
    first = run(settings, clock)
    assert steps(first) == [
        ("register-problem", "applied"),
        ("link-incident", "applied"),
        ("inform-problem-coordinator", "applied"),
    ]
    assert f"not related: {capacity.id} ([capacity]" in str(first.outcomes[0].action.reason)
    with open_for(platform, sandbox) as itsm:
        [linked] = problems_of(itsm, number)
        new = itsm.get(ProblemInvestigation, linked)
    assert linked != capacity.id
    assert str(new.summary).startswith(f"Recurring on CI {CI}, {SYMPTOM}: ")
    assert (new.ci, new.operational_category_1) == (CI, SYMPTOM)
    assert run(settings, clock).outcomes == []  # replay: nothing written twice
    with open_for(platform, sandbox) as itsm:
        assert problems_of(itsm, number) == [linked]


def test_the_related_problem_is_informed(
    platform: str, settings: Settings, sandbox: Sandbox, clock: TestClock
) -> None:
    """An open problem investigation of the request's symptom on its CI is the one acting on it:
    the request is linked to it and its coordinator informed there; no problem is registered."""
    with open_for(platform, sandbox) as itsm:
        problem(itsm, CAPACITY, "hardware")
        timeouts = problem(itsm, "Banking pages time out under load", SYMPTOM)
        number = recurring_workaround(itsm, platform, clock)
    report = run(settings, clock)
    assert steps(report) == [
        ("link-incident", "applied"),
        ("inform-problem-coordinator", "applied"),
    ]
    assert f"{timeouts.id} is related: its categorisation ({SYMPTOM})" in str(
        report.outcomes[0].action.reason
    )
    with open_for(platform, sandbox) as itsm:
        assert problems_of(itsm, number) == [timeouts.id]
    assert run(settings, clock).outcomes == []


def test_a_request_already_linked_to_a_problem_is_not_relinked(
    platform: str, settings: Settings, sandbox: Sandbox, clock: TestClock
) -> None:
    """A request a person linked to a problem investigation keeps that link: P4 writes nothing
    (on ServiceNow a second link would overwrite the incident's problem_id)."""
    with open_for(platform, sandbox) as itsm:
        problem(itsm, "Banking pages time out under load", SYMPTOM)
        chosen = problem(itsm, "Web pool leaks connections", "inquiry")
        number = recurring_workaround(itsm, platform, clock)
        link(itsm, number, str(chosen.id))
    report = run(settings, clock)
    assert report.outcomes == []
    [finding] = [f for f in report.plan.findings if f.record == number]
    assert f"already linked to problem investigation {chosen.id}" in finding.because
    with open_for(platform, sandbox) as itsm:
        assert problems_of(itsm, number) == [chosen.id]
