"""The webhook service end to end: events in over HTTP, incident requests out on the sandbox.

Everything runs on one fixed clock (`START`, shortly after the events' own time): the service's
workers and the sandbox ITSM, whose demo seed is relative to its clock. So nothing here depends
on the day the tests run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connector.base import Connector
from connector.entities import (
    Change,
    ConfigurationItem,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    WorkNote,
)
from connector.enums import (
    ChangeStatus,
    ChangeTiming,
    Impact,
    IncidentStatus,
    ReportedSource,
    ServiceType,
    Urgency,
)
from connector.filters import Field
from sandbox.server import Sandbox
from smpm.demo import DEMO_SETTINGS
from smpm.intake.service import Service, running
from smpm.intake.store import claim, counts, listing
from smpm.intake.worker import Worker
from smpm.settings import Settings, load_settings
from tests.clocks import TestClock
from tests.integration.conftest import clocked_sandbox, open_for, platform_settings

pytestmark = pytest.mark.integration
TOKEN = "integration-token"
API = {"remedy": "/api/arsys", "servicenow": "/api/now"}


# The events below happen at 2026-11-25 10:00-10:04 UTC; the clock starts just after.
START = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


def settings_for(
    platform: str,
    sandbox: Sandbox,
    tmp_path: Path,
    attempts: int = 8,
    *,
    page_size: int | None = None,
    **overrides: Any,
) -> Settings:
    demo = load_settings(DEMO_SETTINGS)
    settings = platform_settings(
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
        **overrides,
    )
    if page_size is None:
        return settings
    face = getattr(settings, platform).model_copy(update={"page_size": page_size})
    return settings.model_copy(update={platform: face})


clock, fresh = clocked_sandbox(START)


@pytest.fixture
def service(platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock) -> Iterator[Service]:
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
    platform: str, service: Service, fresh: Sandbox, clock: TestClock
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
    platform: str, service: Service, fresh: Sandbox, clock: TestClock
) -> None:
    """Every event is accepted while the ITSM answers 503; the workers pause (the breaker's
    probe is answered 503 too) and the events keep their attempts; once the ITSM is back the
    first probe resumes them and all are processed, each on its first counted attempt."""
    fresh.inject(status=503, count=10_000, path_prefix=API[platform])
    ids = [
        post(service, ci="san-array-01", type=f"probe-{n}", message=f"probe {n} failed")
        for n in range(6)
    ]
    service.drain()
    waiting = listing(service.engine, ["pending"], 10)
    assert {r["id"] for r in waiting} == set(ids)
    assert all("HTTP 503" in (r["last_error"] or "") for r in waiting)
    assert all(r["attempts"] == 0 for r in waiting)
    assert service.drain() == 0  # paused until the next probe is due
    fresh.clear_faults()
    clock.now += timedelta(minutes=10)
    service.drain()
    assert counts(service.engine) == {"pending": 0, "processing": 0, "done": 6, "dead": 0}
    assert {r["attempts"] for r in listing(service.engine, ["done"], 10)} == {1}
    created = [
        i for i in event_requests(platform, fresh) if (i.event_key or "").startswith("zabbix/san")
    ]
    assert len(created) == 6


def test_the_last_failure_leaves_a_dead_event_with_its_reason(
    platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock
) -> None:
    """An error about the event itself (the ITSM refuses its create: 400) spends its attempts;
    after the last one the event is kept as dead with the platform's words."""
    settings = settings_for(platform, fresh, tmp_path, attempts=2)
    with running(settings, workers=0, clock=clock) as svc:
        refusal = "Required field (without default) not specified: Impact"
        fresh.inject(
            status=400, count=10_000, method="POST", path_prefix=API[platform], message=refusal
        )
        event_id = post(svc, ci="web-bank-01", message="down")
        svc.drain()
        clock.now += timedelta(minutes=10)
        svc.drain()
        fresh.clear_faults()
        [dead] = listing(svc.engine, ["dead"], 5)
        assert dead["id"] == event_id and "HTTP 400" in dead["last_error"]
        assert refusal in dead["last_error"] and dead["attempts"] == 2
    assert Relation.kind is RecordKind.RELATION


# -- planned changes: the one that covers the CI, however many others are open ------------------
def approved_change(**fields: Any) -> Change:
    """An approved (Scheduled) change whose window covers the events' time."""
    return Change(
        status=ChangeStatus.SCHEDULED,
        timing=ChangeTiming.NORMAL,
        impact=Impact.MINOR,
        urgency=Urgency.LOW,
        scheduled_start=START - timedelta(hours=2),
        scheduled_end=START + timedelta(hours=2),
        **fields,
    )


def change_of_mail_01(itsm: Connector, platform: str, by: str) -> str:
    """A change for mail-01: by its service (Email), or by the CI itself, which Remedy keeps in
    an association row (CHG:Associations) and ServiceNow in the change's cmdb_ci."""
    if by == "service":
        return str(itsm.create(approved_change(summary="Email release", service="Email")).id)
    if platform == "servicenow":
        return str(itsm.create(approved_change(summary="Patch mail-01", ci="mail-01")).id)
    change = itsm.create(approved_change(summary="Patch mail-01"))
    [ci] = itsm.find(ConfigurationItem, Field("name") == "mail-01")
    itsm.relate(
        Relation(
            source_kind=RecordKind.CHANGE,
            source_id=str(change.id),
            target_kind=RecordKind.CI,
            target_id=str(ci.id),
        )
    )
    return str(change.id)


@pytest.mark.parametrize("by", ["ci", "service"])
def test_an_outage_in_the_window_of_one_of_sixty_one_approved_changes_is_planned(
    platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock, by: str
) -> None:
    """'the operator checks if the event is the result of a planned change' and 'closes the
    event if ... the event represents a service degradation or outage that was planned'.

    60 approved Payroll changes are open in the window before the one for mail-01, and smpm
    reads 25 changes a page: mail-01's outage is closed as planned all the same; dwh-db-01,
    which no change covers, still gets its request."""
    with open_for(platform, fresh) as itsm:
        for n in range(60):
            itsm.create(approved_change(summary=f"Payroll patch {n}", service="Payroll"))
        relevant = change_of_mail_01(itsm, platform, by)
    settings = settings_for(platform, fresh, tmp_path, page_size=25)
    before = {i.id for i in event_requests(platform, fresh)}
    with running(settings, workers=0, clock=clock) as svc:
        planned = post(svc, ci="mail-01", message="mail-01 unreachable")
        control = post(svc, ci="dwh-db-01", message="dwh-db-01 unreachable")
        assert svc.drain() == 2
        outcomes = {r["id"]: r["outcome"] for r in listing(svc.engine, ["done"], 10)}
    assert outcomes[planned].startswith("[planned]")
    assert f"approved change {relevant}" in outcomes[planned]
    assert outcomes[control].startswith("[new_incident]")
    new = [i for i in event_requests(platform, fresh) if i.id not in before]
    assert [i.ci for i in new] == ["dwh-db-01"]


# -- capacity: readings after Capacity Management P2 closed their warning into a problem ----------
SAN_STORAGE = {
    "infrastructure": "san-array-01",
    "capacity_level": "storage",
    "metric": "storage.used_percent",
    "warning_threshold": 85,
    "critical_threshold": 90,
    "specialist_group": "Storage Management",
}


def capacity_service(
    platform: str, sandbox: Sandbox, tmp_path: Path, clock: TestClock
) -> AbstractContextManager[Service]:
    """The webhook service with san-array-01's storage in the capacity tracking overview, so
    Capacity Management P2 closes each warning P1 registers into a problem investigation."""
    settings = settings_for(platform, sandbox, tmp_path, capacity={"overview": [SAN_STORAGE]})
    return running(settings, workers=0, clock=clock)


def storage_reading(svc: Service, minute: int, value: float) -> str:
    return post(
        svc,
        ci="san-array-01",
        type="storage",
        metric="storage.used_percent",
        severity="warning",
        message=f"storage.used_percent {value:g}% on san-array-01",
        value=value,
        threshold=85,
        time=f"2026-11-25T10:0{minute}:00Z",
    )


def storage_warnings(platform: str, sandbox: Sandbox) -> list[IncidentRequest]:
    return [
        i
        for i in event_requests(platform, sandbox)
        if i.ci == "san-array-01" and (i.event_key or "").startswith("zabbix/")
    ]


def capacity_problem(platform: str, sandbox: Sandbox) -> ProblemInvestigation:
    with open_for(platform, sandbox) as itsm:
        where = Field("summary").startswith("[capacity] san-array-01 / storage:")
        [problem] = itsm.find(ProblemInvestigation, where)
        return problem


def problem_notes(platform: str, sandbox: Sandbox, problem: str) -> list[str]:
    with open_for(platform, sandbox) as itsm:
        notes = itsm.find(WorkNote, Field("parent_id") == problem, within=RecordKind.PROBLEM)
        return [f"{n.summary or ''} {n.text}" for n in notes]


def test_readings_after_their_warning_went_to_a_problem_are_noted_there(
    platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock
) -> None:
    """'The operator also closes the event if it was not the first event that was generated for
    a current or future incident (i.e. when an incident request had already been registered for
    this)': P2 closed the first warning into a problem investigation; the next three readings
    of the condition register nothing and are counted on that problem (at doublings)."""
    with capacity_service(platform, fresh, tmp_path, clock) as svc:
        for minute, value in enumerate((93, 94, 95, 96)):
            storage_reading(svc, minute, value)
            assert svc.drain() == 1
        done = sorted(listing(svc.engine, ["done"], 10), key=lambda r: str(r["id"]))
    [warning] = storage_warnings(platform, fresh)
    problem = capacity_problem(platform, fresh)
    assert warning.status is IncidentStatus.CLOSED
    assert [r["outcome"].split("]")[0] for r in done] == [
        "[new_incident",
        "[repeat",
        "[repeat",
        "[repeat",
    ]
    assert all(f"repeat of {problem.id}" in r["outcome"] for r in done[1:])
    notes = problem_notes(platform, fresh, str(problem.id))
    assert sum("capacity warning repeated (2 so far)" in n for n in notes) == 1
    assert sum("capacity warning repeated (4 so far)" in n for n in notes) == 1
    assert not any("(3 so far)" in n for n in notes)
    assert any(str(warning.id) in n for n in notes)  # the note names the closed warning


# -- replays: an event worked again after a crash writes nothing more -----------------------------
LEASE = timedelta(minutes=2)


def writes(sandbox: Sandbox) -> dict[str, int]:
    """The ITSM calls since the last reset that were not reads (nor a Remedy login)."""
    routes = sandbox.stats()["by_route"]
    return {k: n for k, n in routes.items() if not k.startswith("GET ") and "/jwt/" not in k}


def crash_then_replay(
    svc: Service, sandbox: Sandbox, clock: TestClock
) -> tuple[dict[str, int], str]:
    """A worker takes the due event, does its work and dies before recording the outcome; once
    its lease has run out another worker takes the event again. Returns what the second run
    wrote to the ITSM and the outcome it recorded."""
    [claimed] = claim(svc.engine, "dies", clock(), LEASE, 1)
    svc.worker.handler(claimed)
    clock.now += LEASE + timedelta(seconds=1)
    sandbox.reset_stats()
    assert svc.drain() == 1
    [row] = [r for r in listing(svc.engine, ["done"], 10) if r["id"] == claimed.id]
    return writes(sandbox), str(row["outcome"])


def test_a_first_outage_event_replayed_after_a_crash_writes_nothing(
    platform: str, service: Service, fresh: Sandbox, clock: TestClock
) -> None:
    """The request registered for the event is found on replay: no second request, and no
    'repeated' note either (it is the condition's first event); still counted as new."""
    post(service, ci="san-array-02", message="san-array-02 unreachable")
    wrote, outcome = crash_then_replay(service, fresh, clock)
    assert wrote == {}
    assert outcome.startswith("[new_incident]")
    mine = [i for i in event_requests(platform, fresh) if i.ci == "san-array-02" and i.event_key]
    assert len([i for i in mine if (i.event_key or "").startswith("zabbix/")]) == 1


def test_capacity_readings_replayed_after_a_crash_write_nothing(
    platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock
) -> None:
    """The first reading (P1 registers the warning, P2 closes it into a problem) and a repeat
    (P1 notes it on the problem), each worked twice: the second run writes nothing."""
    with capacity_service(platform, fresh, tmp_path, clock) as svc:
        storage_reading(svc, 0, 93)
        first, outcome = crash_then_replay(svc, fresh, clock)
        assert (first, outcome.split("]")[0]) == ({}, "[new_incident")
        storage_reading(svc, 1, 94)
        second, outcome = crash_then_replay(svc, fresh, clock)
        assert (second, outcome.split("]")[0]) == ({}, "[repeat")
    assert len(storage_warnings(platform, fresh)) == 1
    problem = capacity_problem(platform, fresh)
    notes = problem_notes(platform, fresh, str(problem.id))
    assert sum("capacity warning repeated" in n for n in notes) == 1
