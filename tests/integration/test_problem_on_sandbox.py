"""Problem Management P1 and P4, and Capacity Management P3, on the sandbox ITSM over HTTP (each
face: Remedy and ServiceNow): the problems registered, the links made, closed and reopened."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.base import Connector
from connector.entities import (
    Change,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    WorkNote,
)
from connector.enums import (
    ChangeStatus,
    Impact,
    IncidentStatus,
    ProblemStatus,
    ReportedSource,
    ServiceType,
    Urgency,
)
from connector.filters import Field
from connector.sandbox.server import DEMO_USER, Sandbox
from smpm.reports import list_reports
from smpm.runner import run_procedure
from smpm.settings import Settings
from smpm.store import utcnow
from tests.integration.conftest import PLATFORMS, open_for, platform_settings

pytestmark = pytest.mark.integration
PACKET_LOSS = "Intermittent packet loss on core switches"  # the seed's problem, linked to
FIRMWARE = "Firmware upgrade on core-sw-02"  # this change, and to a request on core-sw-02


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as fresh:
        yield fresh


def settings_for(platform: str, sandbox: Sandbox, tmp_path: Path, **overrides: Any) -> Settings:
    return platform_settings(platform, sandbox, tmp_path, **overrides)


def outage(summary: str, ci: str, **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "summary": summary,
        "status": IncidentStatus.NEW,
        "impact": Impact.MODERATE,
        "urgency": Urgency.MEDIUM,
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "reported_source": ReportedSource.PHONE,
        "customer": DEMO_USER,
        "service": "Online Banking",
        "ci": ci,
        "operational_category_1": "Failure",
    }
    return IncidentRequest(**{**base, **fields})


def linked_to(itsm: Connector, problem: str) -> set[str]:
    where = Field("target_id") == problem
    return {r.source_id for r in itsm.find(Relation, where, within=RecordKind.INCIDENT)}


# -- Problem Management P1 ------------------------------------------------------------------------
def test_incident_request_review_registers_links_and_reruns_cleanly(
    platform: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """'registers a new problem investigation ... links the incident requests that were caused
    by the problem to it ... assigns the new problem investigation'; a rerun registers and
    links nothing; a later alike request is linked to the problem."""
    settings = settings_for(
        platform,
        sandbox,
        tmp_path,
        problem={"review": {"min_incidents": 3, "specialist_group": "Application Support"}},
    )
    with open_for(platform, sandbox) as itsm:
        ids = {
            str(itsm.create(outage(f"Banking page blank {n}", "web-bank-01")).id) for n in (1, 2, 3)
        }
    first = run_procedure(settings, "problem.incident_review")
    assert {o.outcome for o in first.outcomes} == {"applied"}
    with open_for(platform, sandbox) as itsm:
        where = Field("summary").startswith("[incident review] CI web-bank-01, Failure:")
        [problem] = itsm.find(ProblemInvestigation, where)
        assert linked_to(itsm, str(problem.id)) == ids
    assert (problem.assigned_group, problem.status) == (
        "Application Support",
        ProblemStatus.ASSIGNED,
    )
    assert problem.ci == "web-bank-01"
    again = run_procedure(settings, "problem.incident_review")
    assert again.outcomes == []
    with open_for(platform, sandbox) as itsm:
        later = str(itsm.create(outage("Banking page blank again", "web-bank-01")).id)
    third = run_procedure(settings, "problem.incident_review")
    assert [(o.action.step, o.outcome) for o in third.outcomes] == [("link-problem", "applied")]
    with open_for(platform, sandbox) as itsm:
        assert linked_to(itsm, str(problem.id)) == {*ids, later}
        assert len(list(itsm.find(ProblemInvestigation, where))) == 1


def test_a_new_request_alike_a_known_problem_s_is_linked_to_it(
    platform: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """'incident requests ... caused by a previously identified problem': the seed's failover
    problem has a request on db-cluster-01 linked; a new one there is linked to it too."""
    # (the demo's three Payroll requests would make a group of the default minimum)
    settings = settings_for(platform, sandbox, tmp_path, problem={"review": {"min_incidents": 5}})
    with open_for(platform, sandbox) as itsm:
        new = itsm.create(
            outage(
                "Failover again",
                "db-cluster-01",
                operational_category_1=None,
                service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
            )
        )
        [known] = itsm.find(ProblemInvestigation, Field("ci") == "db-cluster-01")
    report = run_procedure(settings, "problem.incident_review")
    assert [(o.action.target_id, o.outcome) for o in report.outcomes] == [(new.id, "applied")]
    with open_for(platform, sandbox) as itsm:
        assert str(new.id) in linked_to(itsm, str(known.id))


# -- Problem Management P4 ------------------------------------------------------------------------
def complete_the_firmware_change(itsm: Connector) -> tuple[ProblemInvestigation, Change]:
    [problem] = itsm.find(ProblemInvestigation, Field("summary") == PACKET_LOSS)
    [change] = itsm.find(Change, Field("summary") == FIRMWARE)
    itsm.update(Change, str(change.id), {"status": ChangeStatus.COMPLETED})
    return problem, change


def test_problem_closure_closes_when_nothing_recurred(
    platform: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """'If the implementation appears to have solved the problem, the problem coordinator closes
    it': the change is found from the problem (Remedy: its association; ServiceNow: its `rfc`)."""
    settings = settings_for(platform, sandbox, tmp_path)
    with open_for(platform, sandbox) as itsm:
        problem, change = complete_the_firmware_change(itsm)
    early = run_procedure(settings, "problem.closure")
    assert early.outcomes == []  # within the verification window
    later = utcnow() + timedelta(days=15)
    report = run_procedure(settings, "problem.closure", now=later)
    assert [(o.action.step, o.outcome) for o in report.outcomes] == [
        ("complete", "applied"),
        ("close", "applied"),
        ("close-note", "applied"),
    ]
    with open_for(platform, sandbox) as itsm:
        closed = itsm.get(ProblemInvestigation, str(problem.id))
        notes = list(
            itsm.find(WorkNote, Field("parent_id") == problem.id, within=RecordKind.PROBLEM)
        )
    assert closed.status is ProblemStatus.CLOSED
    assert any(f"change {change.id} is completed" in n.text for n in notes)
    if platform == "servicenow":  # fix_notes; Remedy's mapping keeps no problem resolution
        assert (closed.resolution or "").startswith("Problem Management P4 Problem Closure")
    assert run_procedure(settings, "problem.closure", now=later).outcomes == []


def test_problem_closure_reopens_when_the_incident_recurred(
    platform: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """'if the implementation did not fix the problem, the problem coordinator ... reassigns the
    problem investigation': a request on core-sw-02 after the change reopens it, the work note
    naming the request."""
    settings = settings_for(platform, sandbox, tmp_path)
    with open_for(platform, sandbox) as itsm:
        problem, _ = complete_the_firmware_change(itsm)
        recurred = itsm.create(
            outage(
                "Packet loss again",
                "core-sw-02",
                service="Network Connectivity",
                operational_category_1=None,
                service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
            )
        )
        itsm.update(
            ProblemInvestigation, str(problem.id), {"status": ProblemStatus.UNDER_INVESTIGATION}
        )
    report = run_procedure(settings, "problem.closure")
    assert [(o.action.step, o.outcome) for o in report.outcomes] == [
        ("reopen", "applied"),
        ("reopen-note", "applied"),
    ]
    with open_for(platform, sandbox) as itsm:
        reopened = itsm.get(ProblemInvestigation, str(problem.id))
        notes = list(
            itsm.find(WorkNote, Field("parent_id") == problem.id, within=RecordKind.PROBLEM)
        )
    assert reopened.status is ProblemStatus.ASSIGNED
    assert any(f"Recurred: {recurred.id}" in n.text for n in notes)
    assert run_procedure(settings, "problem.closure").outcomes == []


# -- Capacity Management P3 -----------------------------------------------------------------------
OVERVIEW = [
    {
        "infrastructure": "san-array-02",
        "capacity_level": "storage",
        "metric": "storage.used_percent",
        "warning_threshold": 80,
        "critical_threshold": 90,
        "specialist_group": "Storage Management",
    },
    {
        "infrastructure": "Online Banking",
        "capacity_level": "sessions",
        "metric": "sessions.used_percent",
        "warning_threshold": 70,
    },
]


def test_capacity_tracking_registers_one_problem_per_violated_level(
    platform: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """'registers a new problem investigation for every threshold violation for which a problem
    investigation has not yet been registered'; the rerun registers none; the overview is
    published."""
    now = utcnow()
    readings = tmp_path / "readings.csv"
    week = timedelta(days=7)
    lines = ["infrastructure,capacity_level,measured_at,value"]
    for n, (storage, sessions) in enumerate([(78, 50), (83, 55), (88, 52), (92, 60)]):
        when = (now - (3 - n) * week - timedelta(days=7)).isoformat()
        lines += [
            f"san-array-02,storage,{when},{storage}",
            f"Online Banking,sessions,{when},{sessions}",
        ]
    readings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = settings_for(
        platform,
        sandbox,
        tmp_path,
        capacity={
            "overview": OVERVIEW,
            "tracking": {"readings_csv": str(readings), "period_days": 7, "history_periods": 4},
        },
        reports={"folder": str(tmp_path / "reports")},
    )
    first = run_procedure(settings, "capacity.tracking", now=now)
    assert [(o.action.step, o.outcome) for o in first.outcomes] == [("register-problem", "applied")]
    with open_for(platform, sandbox) as itsm:
        where = Field("summary").startswith("[capacity] san-array-02 / storage:")
        [problem] = itsm.find(ProblemInvestigation, where)
    assert (problem.assigned_group, problem.ci) == ("Storage Management", "san-array-02")
    assert run_procedure(settings, "capacity.tracking", now=now).outcomes == []
    [published] = list_reports(tmp_path / "reports")
    assert published.kind == "capacity-tracking"
