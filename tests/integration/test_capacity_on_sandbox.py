"""Capacity warnings end to end: an event in over HTTP, Event Handling, then Capacity Warning
Handling, on the sandbox ITSM (each face: Remedy and ServiceNow, over real HTTP on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation
from connector.enums import IncidentStatus, ProblemStatus, ServiceType
from connector.filters import Field
from procedures.event.review import EVENT_REVIEW
from sandbox.server import Sandbox
from smpm.demo import DEMO_SETTINGS
from smpm.intake.service import Service, running
from smpm.intake.store import listing
from smpm.reports import review
from smpm.runner import run_procedure
from smpm.settings import Settings, load_settings
from tests.clocks import TestClock
from tests.integration.conftest import open_for, platform_settings
from tests.integration.test_events_on_sandbox import START, TOKEN, post

pytestmark = pytest.mark.integration
OVERVIEW = [
    {
        "infrastructure": "san-array-01",
        "capacity_level": "storage",
        "metric": "storage.used_percent",
        "warning_threshold": 85,
        "critical_threshold": 90,
        "specialist_group": "Storage Management",
    },
    {
        "infrastructure": "app-bank-02",
        "capacity_level": "cpu",
        "metric": "cpu.utilisation",
        "warning_threshold": 90,
        "critical_threshold": 95,
        "monitoring_job": "zabbix app cpu",
    },
]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as fresh:
        yield fresh


@pytest.fixture
def settings(platform: str, sandbox: Sandbox, tmp_path: Path) -> Settings:
    return platform_settings(
        platform,
        sandbox,
        tmp_path,
        hooks={"events": {"methods": ["bearer"], "token": TOKEN}},
        incident=load_settings(DEMO_SETTINGS).incident.model_dump(),
        event={"handling": {"customer": "Maya"}},
        capacity={"overview": OVERVIEW},
        reports={"folder": str(tmp_path / "reports")},
    )


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    with running(settings, workers=0, clock=TestClock(START)) as svc:
        yield svc


def reading(svc: Service, ci: str, metric: str, value: float, **fields: Any) -> None:
    post(
        svc,
        ci=ci,
        type=metric.split(".", maxsplit=1)[0],
        metric=metric,
        severity="warning",
        message=f"{metric} {value:g}% on {ci}",
        value=value,
        threshold=80,
        **fields,
    )


def warnings_on(platform: str, sandbox: Sandbox, ci: str) -> list[IncidentRequest]:
    with open_for(platform, sandbox) as itsm:
        where = (Field("ci") == ci) & (Field("service_type") == ServiceType.INFRASTRUCTURE_EVENT)
        found = itsm.find(IncidentRequest, where)
        return [i for i in found if (i.event_key or "").startswith("zabbix/")]  # not the seed's


def test_a_warning_above_a_threshold_ends_in_a_linked_problem_and_a_closed_request(
    platform: str, service: Service, sandbox: Sandbox
) -> None:
    """'links the incident request to the new problem investigation and assigns it to the most
    appropriate specialist ... closes the incident request after it has been linked'. A second
    warning on the same storage links to the same problem (found by its summary prefix, whose
    brackets the qualification escapes)."""
    reading(service, "san-array-01", "storage.used_percent", 93)
    assert service.drain() == 1
    reading(service, "san-array-01", "storage.used_percent", 91, resource="lun-7")
    assert service.drain() == 1
    assert {r["status"] for r in listing(service.engine, ["done", "dead", "pending"], 10)} == {
        "done"
    }
    first, second = sorted(warnings_on(platform, sandbox, "san-array-01"), key=lambda i: str(i.id))
    with open_for(platform, sandbox) as itsm:
        where = Field("summary").startswith("[capacity] san-array-01 / storage:")
        [problem] = itsm.find(ProblemInvestigation, where)
        links = {
            (r.source_id, r.target_id)
            for r in itsm.find(
                Relation, Field("target_id") == problem.id, within=RecordKind.INCIDENT
            )
        }
    assert (problem.assigned_group, problem.status) == (
        "Storage Management",
        ProblemStatus.ASSIGNED,
    )
    if platform == "remedy":  # ServiceNow's problem table has no coordinator field
        assert problem.problem_coordinator == "Bob"
    assert links == {(first.id, problem.id), (second.id, problem.id)}
    for warning in (first, second):
        assert warning.status is IncidentStatus.CLOSED
        assert (warning.resolution or "").startswith("Capacity Management P2 Capacity Warning")


def test_a_warning_below_the_thresholds_asks_monitoring_to_adjust_the_job(
    platform: str, service: Service, sandbox: Sandbox, settings: Settings
) -> None:
    """'If the utilization level does not exceed one of these thresholds, the capacity manager
    requests an adjustment of the monitoring job that generated the event'."""
    reading(service, "app-bank-02", "cpu.utilisation", 87)
    assert service.drain() == 1
    [warning] = warnings_on(platform, sandbox, "app-bank-02")
    with open_for(platform, sandbox) as itsm:
        where = Field("summary") == "Adjust monitoring job zabbix app cpu"
        [request] = itsm.find(IncidentRequest, where)
        linked = list(
            itsm.find(Relation, Field("source_id") == str(warning.id), within=RecordKind.INCIDENT)
        )
    assert (request.assigned_group, request.service_type, request.customer) == (
        "Monitoring",
        ServiceType.USER_SERVICE_REQUEST,
        "Carl",
    )
    assert warning.status is IncidentStatus.CLOSED
    # ServiceNow links incidents to problems only: there the resolution names the request.
    assert [r.target_id for r in linked] == ([request.id] if platform == "remedy" else [])
    assert "Adjust monitoring job zabbix app cpu" in (warning.resolution or "")
    again = run_procedure(settings, "capacity.warning_handling")
    assert again.outcomes == []  # the scheduled run finds nothing left to do
    later = START + timedelta(hours=1)  # the service's clock, an hour on
    plan, paths = review(settings, EVENT_REVIEW, days=1, now=later)
    assert plan.report is not None and plan.report.rows[0][3:5] == (1, 1)
    assert paths[0].is_file()
