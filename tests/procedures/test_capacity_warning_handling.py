"""Capacity Management, Procedure 2, Capacity Warning Handling: every branch, gathering, reruns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import (
    IncidentStatus,
    ProblemStatus,
    ReportedSource,
    ServiceType,
)
from connector.testing import FakeConnector, incident
from procedures.capacity import warning_handling as p2
from procedures.capacity.config import CapacityConfig
from procedures.capacity.overview import OverviewRow
from procedures.capacity.reading import read_reading
from procedures.config import ProceduresConfig
from procedures.plan import ActionKind, Ref
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine
from tests.procedures.conftest import NOW, directory

SAN = OverviewRow(
    infrastructure="san-array-01",
    capacity_level="storage",
    metric="storage.used_percent",
    warning_threshold=80,
    critical_threshold=90,
    specialist_group="Storage Management",
    monitoring_job="zabbix san-usage",
)
BANKING_CPU = OverviewRow(
    infrastructure="Online Banking", capacity_level="cpu", metric="cpu.utilisation",
    critical_threshold=95,
)  # fmt: skip
CONFIG = CapacityConfig(overview=[SAN, BANKING_CPU], specialist_group="Problem Management")
OPEN_PROBLEM = ProblemInvestigation(
    id="PBI5",
    summary="[capacity] san-array-01 / storage: storage.used_percent above critical 90%",
    status=ProblemStatus.UNDER_INVESTIGATION,
)


def details(ci: str = "san-array-01", metric: str = "storage.used_percent", **facts: Any) -> str:
    reading = {"source": "zabbix", "ci": ci, "type": "disk", "metric": metric, **facts}
    return f"Storage filling up\n\nsmpm-reading {json.dumps(reading)}"


def warning(id: str = "INC1", value: float = 93.0, **fields: Any) -> IncidentRequest:
    base: dict[str, Any] = {
        "id": id,
        "summary": "[disk] san-array-01 storage 93%",
        "details": details(value=value, threshold=75),
        "status": IncidentStatus.ASSIGNED,
        "service_type": ServiceType.INFRASTRUCTURE_EVENT,
        "assigned_group": "Capacity Management",
        "assignee": "cathy",
        "ci": "san-array-01",
        "service": "Online Banking",
        "event_key": "zabbix/san-array-01/disk",
    }
    return incident(**{**base, **fields})


def decide(*warnings: p2.CapacityWarning, config: CapacityConfig = CONFIG) -> p2.Plan:
    return p2.decide(warnings, directory(), config, "test")


def look_up(*incidents: IncidentRequest, problems: tuple[ProblemInvestigation, ...] = ()) -> list:
    fake = FakeConnector().add(*problems)
    return p2.look_up(fake, incidents, CONFIG.table())


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    incident: IncidentRequest
    problems: tuple[ProblemInvestigation, ...]
    kinds: tuple[ActionKind, ...]
    outcome: str
    because: str


CASES = [
    Case(
        "no-reading",
        "the capacity manager looks up the capacity utilization level at which the event ... "
        "had been generated",
        warning(details="typed by hand"),
        (),
        (),
        "no action",
        "no smpm-reading line: the capacity manager looks up the utilisation level",
    ),
    Case(
        "not-in-the-overview",
        "opens the capacity tracking overview spreadsheet ... looks up the specific service "
        "infrastructure (not there: the capacity manager decides)",
        warning(details=details(ci="mail-01", metric="mail.queue", value=99), ci="mail-01"),
        (),
        (),
        "no action",
        "mail-01 / mail.queue is not in the capacity tracking overview: the capacity manager",
    ),
    Case(
        "within-thresholds-requests-a-monitoring-adjustment",
        "If the utilization level does not exceed one of these thresholds, the capacity manager "
        "requests an adjustment of the monitoring job that generated the event",
        warning(value=78.0),
        (),
        (ActionKind.CREATE, ActionKind.RELATE, ActionKind.UPDATE, ActionKind.UPDATE),
        "monitoring adjustment requested; closed",
        "storage.used_percent 78% does not exceed the thresholds of 'san-array-01 / storage' "
        "(critical 90%, warning 80%): the monitoring job zabbix san-usage",
    ),
    Case(
        "above-a-threshold-registers-a-problem",
        "The capacity manager registers a new problem investigation if a problem investigation "
        "has not yet been registered ... links the incident request to the new problem",
        warning(value=85.0),
        (),
        (ActionKind.CREATE, ActionKind.RELATE, ActionKind.UPDATE, ActionKind.UPDATE),
        "linked to a problem investigation; closed",
        "storage.used_percent 85% exceeds the warning threshold 80% for 'san-array-01 / storage'",
    ),
    Case(
        "above-a-threshold-links-the-registered-problem",
        "If a problem investigation has already been registered, the capacity manager simply "
        "links the incident request to this problem investigation",
        warning(value=93.0),
        (OPEN_PROBLEM,),
        (ActionKind.RELATE, ActionKind.UPDATE, ActionKind.UPDATE),
        "linked to a problem investigation; closed",
        "storage.used_percent 93% exceeds the critical threshold 90% for 'san-array-01 / "
        "storage'; linked to the open problem investigation PBI5",
    ),
    Case(
        "the-service-s-row-when-the-ci-has-none",
        "the capacity tracking overview spreadsheet of the service that consumes the capacity",
        warning(details=details(ci="app-bank-02", metric="cpu.utilisation", value=97), ci="x"),
        (),
        (ActionKind.CREATE, ActionKind.RELATE, ActionKind.UPDATE, ActionKind.UPDATE),
        "linked to a problem investigation; closed",
        "cpu.utilisation 97% exceeds the critical threshold 95% for 'Online Banking / cpu'",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_capacity_warning_handling_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = decide(*look_up(case.incident, problems=case.problems))
    assert tuple(a.kind for a in plan.actions) == case.kinds
    [finding] = plan.findings
    assert (finding.record, finding.outcome) == (str(case.incident.id), case.outcome)
    assert case.because in finding.because
    for action in plan.actions:
        assert str(action.reason).startswith("Capacity Management P2 Capacity Warning Handling: ")
        assert "INC1" in action.trigger and "2026" not in action.trigger


def test_the_monitoring_request_says_which_job_and_why() -> None:
    """'requests an adjustment of the monitoring job that generated the event to prevent such
    events from being generated in the future': a request to the monitoring group, filed by the
    capacity manager, linked to the warning, which is then closed."""
    create, link, resolve, close = decide(*look_up(warning(value=78.0))).actions
    request = create.record
    assert isinstance(request, IncidentRequest)
    assert (request.assigned_group, request.service_type, request.customer) == (
        "Monitoring",
        ServiceType.USER_SERVICE_REQUEST,
        "cathy",
    )
    assert request.reported_source is ReportedSource.DIRECT_INPUT
    assert request.summary == "Adjust monitoring job zabbix san-usage"
    assert "INC1" in (request.details or "") and "78%" in (request.details or "")
    assert link.relation is not None and link.relation.target_kind is RecordKind.INCIDENT
    assert link.relation_target == Ref(trigger=create.trigger, step=create.step)
    assert resolve.changes["status"] is IncidentStatus.RESOLVED
    assert resolve.changes["status_reason"] == "No Further Action Required"
    assert "Adjust monitoring job zabbix san-usage" in resolve.changes["resolution"]
    assert close.changes["status"] is IncidentStatus.CLOSED and close.changes["resolution"]


def test_without_a_job_name_the_event_s_source_type_and_metric_name_it() -> None:
    row = SAN.model_copy(update={"monitoring_job": None})
    config = CapacityConfig(overview=[row])
    plan = p2.decide(
        p2.look_up(FakeConnector(), [warning(value=10.0)], config.table()), directory(), config, "t"
    )
    record = plan.actions[0].record
    assert record is not None and record.summary == (  # type: ignore[union-attr]
        "Adjust monitoring job zabbix / disk / storage.used_percent"
    )


def test_a_new_problem_goes_to_the_row_s_specialist() -> None:
    """'registers a new problem investigation ... and assigns it to the most appropriate
    specialist'; the service's problem coordinator coordinates it."""
    create, link, resolve, close = decide(*look_up(warning(value=93.0))).actions
    problem = create.record
    assert isinstance(problem, ProblemInvestigation)
    assert problem.summary is not None
    assert problem.summary.startswith("[capacity] san-array-01 / storage:")
    assert (problem.assigned_group, problem.status, problem.problem_coordinator) == (
        "Storage Management",
        ProblemStatus.ASSIGNED,
        "paula",
    )
    assert problem.investigation_driver == "Re-Occurring Incidents"
    assert create.trigger == "incident:INC1:capacity-problem:san-array-01 / storage"
    assert link.relation_target == Ref(trigger=create.trigger, step="register-problem")
    assert resolve.changes["resolution"].endswith(
        "Linked to problem investigation '[capacity] san-array-01 / storage: "
        "storage.used_percent above critical 90%, warning 80%'."
    )
    assert [resolve.step, close.step] == ["resolve", "close"]


def test_without_any_specialist_group_the_problem_waits_for_its_coordinator() -> None:
    config = CapacityConfig(overview=[BANKING_CPU])
    warnings = p2.look_up(
        FakeConnector(),
        [warning(details=details(ci="app-bank-02", metric="cpu.utilisation", value=99))],
        config.table(),
    )
    problem = p2.decide(warnings, directory(), config, "t").actions[0].record
    assert isinstance(problem, ProblemInvestigation)
    assert (problem.assigned_group, problem.status) == (None, ProblemStatus.UNDER_REVIEW)


def test_two_warnings_on_one_row_in_one_run_share_one_new_problem() -> None:
    plan = decide(*look_up(warning("INC1", 93.0), warning("INC2", 95.0)))
    creates = [a for a in plan.actions if a.kind is ActionKind.CREATE]
    links = [a for a in plan.actions if a.kind is ActionKind.RELATE]
    assert len(creates) == 1
    assert {a.relation_target for a in links} == {
        Ref(trigger=creates[0].trigger, step=creates[0].step)
    }
    assert [a.target_id for a in plan.actions if a.step == "close"] == ["INC1", "INC2"]


# -- gathering ------------------------------------------------------------------------------------
def context(fake: FakeConnector, config: CapacityConfig = CONFIG) -> Context:
    settings = ProceduresConfig(capacity=config)
    return Context(fake, settings, NOW, "test", _directory=directory())


def test_gather_takes_open_capacity_warnings_only() -> None:
    fake = FakeConnector().add(
        warning("INC1"),
        warning("INC2", status=IncidentStatus.CLOSED),
        warning("INC3", assigned_group="Service Desk"),
        warning("INC4", service_type=ServiceType.INFRASTRUCTURE_RESTORATION),
        warning("INC5", status=IncidentStatus.PENDING),
    )
    assert [w.incident.id for w in p2.gather(context(fake))] == ["INC1", "INC5"]


def test_the_registered_problem_is_found_by_its_summary_and_asked_for_once() -> None:
    closed = OPEN_PROBLEM.model_copy(update={"id": "PBI1", "status": ProblemStatus.CLOSED})
    other = OPEN_PROBLEM.model_copy(
        update={"id": "PBI2", "summary": "[capacity] san-array-02 / storage: x"}
    )
    fake = FakeConnector().add(closed, other, OPEN_PROBLEM, warning("INC1"), warning("INC2"))
    reads = fake.reads
    warnings = p2.gather(context(fake))
    assert [w.problem.id if w.problem else None for w in warnings] == ["PBI5", "PBI5"]
    assert fake.reads - reads == 2  # the warnings, then one problem query for the row


def test_a_rerun_writes_nothing_new(tmp_path: Path) -> None:
    """Triggers name the incident, never the time: the executor skips what was done."""
    fake = FakeConnector().add(warning("INC1", 93.0), warning("INC2", 78.0))
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    plan = p2.run(context(fake))
    first = Executor(fake, engine).apply(plan)
    assert not first.failed
    writes = len(fake.writes)
    again = Executor(fake, engine).apply(plan)
    assert {o.outcome for o in again.outcomes} == {"skipped"}
    assert len(fake.writes) == writes
    assert p2.run(context(fake)).actions == []  # both warnings are closed now
    problem = next(iter(fake.find(ProblemInvestigation)))
    assert [r.target_id for r in fake.relations] == [problem.id, first.outcomes[4].result_id]
    engine.dispose()


def test_a_later_warning_links_to_the_problem_an_earlier_run_registered(tmp_path: Path) -> None:
    fake = FakeConnector().add(warning("INC1", 93.0))
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    Executor(fake, engine).apply(p2.run(context(fake)))
    fake.add(warning("INC2", 91.0))
    plan = p2.run(context(fake))
    assert [a.kind for a in plan.actions] == [
        ActionKind.RELATE,
        ActionKind.UPDATE,
        ActionKind.UPDATE,
    ]
    problem = next(iter(fake.find(ProblemInvestigation)))
    assert plan.actions[0].relation is not None
    assert plan.actions[0].relation.target_id == problem.id
    engine.dispose()


def test_for_record_and_explain_leave_other_requests_alone() -> None:
    fake = FakeConnector().add(warning("INC1"), warning("INC3", assigned_group="Service Desk"))
    assert p2.for_record(context(fake), "INC3").actions == []
    assert len(p2.for_record(context(fake), "INC1").actions) == 4
    [finding] = p2.explain(context(fake), "INC3").findings
    assert finding.outcome == "not a capacity warning"
    assert "assigned to Service Desk" in finding.because
    explained = p2.explain(context(fake), "INC1")
    assert explained.findings[0].outcome == "linked to a problem investigation; closed"
    assert fake.writes == []


def test_the_reading_event_handling_writes_is_the_one_read_back() -> None:
    """The contract with Event Management P1: its `reading_line` is what P2 parses."""
    from connector.entities import Event
    from procedures.event.handling import reading_line

    event = Event(
        source="zabbix", ci="san-array-01", metric="storage.used_percent", value=93, threshold=85
    )
    reading = read_reading(f"Disk full\n\n{reading_line(event)}")
    assert reading is not None
    assert (reading.ci, reading.metric, reading.value, reading.job) == (
        "san-array-01",
        "storage.used_percent",
        93.0,
        "zabbix / storage.used_percent",
    )


def test_event_handling_finds_the_warning_this_procedure_closed_into_its_problem(
    tmp_path: Path,
) -> None:
    """The contract with Event Management P1 the other way: P2 "closes the incident request
    after it has been linked to an existing or a new problem investigation"; P1 then takes a
    further reading of the condition for what SMPM calls "not the first event that was generated
    for a current or future incident (i.e. when an incident request had already been registered
    for this)": a note on the problem, no second warning. Replaying either run writes nothing."""
    from connector.entities import ConfigurationItem, Event, WorkNote
    from connector.enums import EventSeverity
    from connector.testing import at
    from procedures.event import handling as p1
    from procedures.event.cmdb import CmdbSnapshot
    from procedures.event.situation import gather
    from procedures.incident.assignment import AssignmentConfig

    san = ConfigurationItem(id="RE-SAN", name="san-array-01")
    cmdb = CmdbSnapshot.of([san], [], [])
    settings = p1.HandlingConfig(customer="monitor")
    fake = FakeConnector()
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")

    def handle(event_id: str, occurrence: int) -> p1.Plan:
        event = Event(
            id=event_id, source="zabbix", ci="san-array-01", event_type="disk",
            metric="storage.used_percent", severity=EventSeverity.WARNING, value=93,
            threshold=85, message_key="zabbix/san-array-01/disk", message="storage 93%",
            occurred_at=at("2026-11-25 10:00"),
        )  # fmt: skip
        situation = gather(fake, event, occurrence, cmdb, settings)
        plan = p1.decide(situation, directory(), settings, AssignmentConfig())
        assert not Executor(fake, engine).apply(plan).failed
        return plan

    first = handle("EV1", 1)
    [warning_id] = [i.id for i in fake.find(IncidentRequest)]
    assert first.findings[0].outcome == "new incident request"
    closing = p2.for_record(context(fake), str(warning_id))
    assert not Executor(fake, engine).apply(closing).failed
    [problem] = fake.find(ProblemInvestigation)
    assert fake.get(IncidentRequest, str(warning_id)).status is IncidentStatus.CLOSED

    second = handle("EV2", 2)
    assert second.findings[0].outcome == f"repeat of {problem.id}"
    assert [i.id for i in fake.find(IncidentRequest)] == [warning_id]  # no second warning
    notes = list(fake.find(WorkNote, within=RecordKind.PROBLEM))
    assert [(n.parent_id, n.summary) for n in notes] == [
        (problem.id, "Monitoring: capacity warning repeated (2 so far)")
    ]
    writes = len(fake.writes)
    again = Executor(fake, engine).apply(second)
    assert {o.outcome for o in again.outcomes} == {"skipped"} and len(fake.writes) == writes
    engine.dispose()
