"""The webhook service end to end: events in over HTTP, incident requests out on the sandbox."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connector.entities import ConfigurationItem, IncidentRequest, RecordKind, Relation, WorkNote
from connector.enums import ReportedSource, ServiceType
from connector.filters import Field
from connector.sandbox.server import Sandbox
from smpm.demo import DEMO_SETTINGS
from smpm.intake.service import Service, running
from smpm.intake.store import claim, counts, listing
from smpm.intake.worker import Worker
from smpm.settings import Settings, load_settings
from tests.integration.conftest import PLATFORMS, open_for, platform_settings

pytestmark = pytest.mark.integration
TOKEN = "integration-token"
API = {"remedy": "/api/arsys", "servicenow": "/api/now"}


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def settings_for(platform: str, sandbox: Sandbox, tmp_path: Path, attempts: int = 8) -> Settings:
    demo = load_settings(DEMO_SETTINGS)
    return platform_settings(
        platform,
        sandbox,
        tmp_path,
        hooks={
            "events": {"methods": ["bearer"], "token": TOKEN},
            "alertmanager": {"methods": ["bearer"], "token": TOKEN},
        },
        intake={"max_attempts": attempts, "backoff_seconds": 5},
        incident=demo.incident.model_dump(),
        event={"handling": {"customer": "Maya"}},
    )


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as sandbox:
        yield sandbox


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(platform: str, fresh: Sandbox, tmp_path: Path, clock: Clock) -> Iterator[Service]:
    with running(settings_for(platform, fresh, tmp_path), workers=0, clock=clock) as svc:
        yield svc


def post(svc: Service, **fields: Any) -> str:
    body = {
        "source": "zabbix",
        "type": "availability",
        "severity": "critical",
        "message": "down",
        "time": "2026-11-25T10:00:00Z",
        **fields,
    }
    answer = TestClient(svc.app).post(
        "/hooks/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def event_requests(platform: str, sandbox: Sandbox) -> list[IncidentRequest]:
    with open_for(platform, sandbox) as connector:
        where = Field("reported_source") == ReportedSource.SYSTEMS_MANAGEMENT
        return [i for i in connector.find(IncidentRequest, where) if i.event_key]


def notes_on(platform: str, sandbox: Sandbox, record: str) -> list[str]:
    """Each note's summary and text (ServiceNow keeps both in the journal entry)."""
    with open_for(platform, sandbox) as connector:
        where = Field("parent_id") == record
        notes = connector.find(WorkNote, where, within=RecordKind.INCIDENT)
        return [f"{n.summary or ''} {n.text}" for n in notes]


def test_an_event_storm_makes_exactly_the_requests_smpm_asks_for(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    """An outage, its repeats, a CI depending on it, a capacity warning: two requests, no more.

    db-node-01's only upstream trouble in the demo is a pending transceiver order (not an
    outage), so its failure is a first notice; db-cluster-01 depends on db-node-01.
    """
    before = {i.id for i in event_requests(platform, fresh)}
    post(service, ci="db-node-01", message="db-node-01 unreachable")
    assert service.drain() == 1
    for minute in range(1, 5):
        post(
            service,
            ci="db-node-01",
            message="db-node-01 unreachable",
            time=f"2026-11-25T10:0{minute}:00Z",
        )
    post(
        service,
        ci="db-cluster-01",
        type="replication",
        severity="major",
        message="replication stopped",
    )
    post(
        service,
        ci="app-bank-02",
        type="cpu",
        metric="cpu.utilisation",
        severity="warning",
        message="CPU 97% on app-bank-02",
        value=97,
        threshold=90,
    )
    assert service.drain() == 6
    new = [i for i in event_requests(platform, fresh) if i.id not in before]
    assert Counter(i.service_type for i in new) == {
        ServiceType.INFRASTRUCTURE_RESTORATION: 1,
        ServiceType.INFRASTRUCTURE_EVENT: 1,
    }
    outage = next(i for i in new if i.service_type is ServiceType.INFRASTRUCTURE_RESTORATION)
    # db-node-01 supports four services; the nearest by name is Data Warehouse, and no routing
    # rule matches a Data Warehouse outage without "load"/"etl" in it: the default group.
    assert (outage.ci, outage.service, outage.assigned_group) == (
        "db-node-01",
        "Data Warehouse",
        "Service Desk",
    )
    capacity = next(i for i in new if i.service_type is ServiceType.INFRASTRUCTURE_EVENT)
    assert (capacity.assigned_group, capacity.assignee, capacity.service) == (
        "Capacity Management",
        "Carl",
        "Online Banking",
    )
    notes = notes_on(platform, fresh, str(outage.id))
    assert sum("Monitoring: event repeated (2 so far)" in n for n in notes) == 1
    assert sum("Monitoring: event repeated (4 so far)" in n for n in notes) == 1
    assert not any("event repeated (3 so far)" in n for n in notes)
    assert any("Monitoring: dependent CI db-cluster-01" in n for n in notes)
    # ... and the outage names db-cluster-01 among the CIs it impacts (Remedy: an association;
    # ServiceNow: a task_ci row, the incident's Affected CIs).
    with open_for(platform, fresh) as itsm:
        [cluster] = itsm.find(ConfigurationItem, Field("name") == "db-cluster-01")
        to_cis = (Field("source_id") == str(outage.id)) & (Field("target_kind") == RecordKind.CI)
        impacted = {r.target_id for r in itsm.find(Relation, to_cis, within=RecordKind.INCIDENT)}
    assert impacted == {cluster.id}
    assert counts(service.engine)["done"] == 7


def test_two_workers_decide_a_dependent_ci_after_its_upstream(
    platform: str, service: Service, fresh: Sandbox, clock: Clock
) -> None:
    """P1: "caused by the failure of another CI: relate the event to its outage", also when
    two workers take the upstream event and the dependent one at the same moment; and two
    workers never decide about one CI at once (which would open two requests for one outage).
    """
    before = {i.id for i in event_requests(platform, fresh)}
    upstream = post(service, ci="db-node-01", message="db-node-01 unreachable")
    repeat = post(service, ci="db-node-01", message="db-node-01 unreachable", severity="major")
    dependent = post(
        service, ci="db-cluster-01", type="replication", severity="major", message="stopped"
    )
    lease = timedelta(minutes=2)
    a = Worker(service.engine, service.worker.handler, service.worker.config, clock, owner="a")
    b = Worker(service.engine, service.worker.handler, service.worker.config, clock, owner="b")
    [first] = claim(service.engine, "a", clock(), lease, 1)
    taken = claim(service.engine, "b", clock(), lease, 10)
    assert first.id == upstream
    assert [c.id for c in taken] == [dependent]  # the repeat waits: db-node-01 is a's
    b.work(taken[0])
    waiting = {r["id"]: r["attempts"] for r in listing(service.engine, ["pending"], 5)}
    assert waiting == {repeat: 0, dependent: 0}  # deferred, no attempt spent
    a.work(first)
    clock.now += timedelta(seconds=1)
    assert service.drain() == 2
    new = [i for i in event_requests(platform, fresh) if i.id not in before]
    assert [i.service_type for i in new] == [ServiceType.INFRASTRUCTURE_RESTORATION]
    notes = notes_on(platform, fresh, str(new[0].id))
    assert any("Monitoring: dependent CI db-cluster-01" in n for n in notes)
    assert any("Monitoring: event repeated" in n for n in notes)
    assert counts(service.engine)["done"] == 3


def test_a_redelivered_event_is_processed_once(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    first = post(service, ci="san-array-01", message="san-array-01 down")
    again = post(service, ci="san-array-01", message="san-array-01 down")
    assert first == again
    service.drain()
    mine = [
        i
        for i in event_requests(platform, fresh)
        if (i.event_key or "").startswith("zabbix/san-array-01")
    ]
    assert len(mine) == 1


def test_itsm_down_during_a_burst_loses_nothing(
    platform: str, service: Service, fresh: Sandbox, clock: Clock
) -> None:
    """Every event is accepted while the ITSM answers 503; once it is back, all are processed."""
    fresh.inject(status=503, count=10_000, path_prefix=API[platform])
    ids = [
        post(service, ci="san-array-01", type=f"probe-{n}", message=f"probe {n} failed")
        for n in range(6)
    ]
    service.drain()
    waiting = listing(service.engine, ["pending"], 10)
    assert {r["id"] for r in waiting} == set(ids)
    assert all("HTTP 503" in (r["last_error"] or "") for r in waiting)
    fresh.clear_faults()
    clock.now += timedelta(minutes=10)
    service.drain()
    assert counts(service.engine) == {"pending": 0, "processing": 0, "done": 6, "dead": 0}
    created = [
        i for i in event_requests(platform, fresh) if (i.event_key or "").startswith("zabbix/san")
    ]
    assert len(created) == 6


def test_the_last_failure_leaves_a_dead_event_with_its_reason(
    platform: str, fresh: Sandbox, tmp_path: Path, clock: Clock
) -> None:
    settings = settings_for(platform, fresh, tmp_path, attempts=2)
    with running(settings, workers=0, clock=clock) as svc:
        fresh.inject(status=503, count=10_000, path_prefix=API[platform])
        event_id = post(svc, ci="web-bank-01", message="down")
        svc.drain()
        clock.now += timedelta(minutes=10)
        svc.drain()
        fresh.clear_faults()
        [dead] = listing(svc.engine, ["dead"], 5)
        assert dead["id"] == event_id and "HTTP 503" in dead["last_error"]
    assert Relation.kind is RecordKind.RELATION
