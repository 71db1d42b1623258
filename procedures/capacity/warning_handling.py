"""Capacity Management, Procedure 2, Capacity Warning Handling.

SMPM: "the capacity manager looks up the capacity utilization level at which the event, for which
this incident request was created, had been generated ... looks up the specific service
infrastructure that would become affected by the impending capacity shortage and determines if the
utilization level exceeds one of its capacity utilization thresholds." Then: "If the utilization
level does not exceed one of these thresholds, the capacity manager requests an adjustment of the
monitoring job that generated the event"; if it did, "If a problem investigation has already been
registered, the capacity manager simply links the incident request to this problem investigation.
The capacity manager registers a new problem investigation if a problem investigation has not yet
been registered ... and assigns it to the most appropriate specialist"; and "The capacity manager
closes the incident request after it has been linked to an existing or a new problem
investigation."

For each open capacity incident (service type Infrastructure Event, assigned to the capacity
group), with the reading Event Handling recorded in its details and the overview row of its CI (or
the service it supports) and metric:
1. no reading                 -> a finding: the capacity manager looks the level up; no writes;
2. no overview row            -> a finding: the capacity manager decides; no writes;
3. within every threshold     -> an incident request to the monitoring group to adjust the job,
                                 linked to the warning, which is then closed;
4. above a threshold          -> linked to the open problem investigation whose summary starts
                                 '[capacity] <infrastructure> / <level>:' (`problem_prefix`), or
                                 to a new one assigned to the row's specialist group; then closed.

Closing goes Resolved (status reason and resolution) then Closed: the lifecycle Remedy ITSM and
ServiceNow both enforce for people (Closed follows Resolved), so the Resolved date is stamped
and nothing depends on a platform tolerating a jump the sandbox happens to accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import (
    IncidentStatus,
    ProblemStatus,
    RelationType,
    ServiceType,
)
from connector.filters import Field as F
from connector.filters import Filter
from procedures.capacity.config import CapacityConfig
from procedures.capacity.overview import CapacityOverview, OverviewRow, problem_prefix
from procedures.capacity.reading import Reading, read_reading
from procedures.capacity.records import capacity_problem, monitoring_request, problem_summary
from procedures.directory import Directory
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, incident_link
from procedures.registry import Context, Procedure

PROCESS = "Capacity Management"
PROCEDURE = "P2 Capacity Warning Handling"
NAME = "capacity.warning_handling"
OPEN = [s for s in IncidentStatus if s.is_open]
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]


@dataclass(frozen=True)
class CapacityWarning:
    """One capacity incident request with what the capacity manager looks up for it."""

    incident: IncidentRequest
    reading: Reading | None = None
    row: OverviewRow | None = None
    problem: ProblemInvestigation | None = None


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def candidates(config: CapacityConfig) -> Filter:
    """Open incident requests that warn of a capacity shortage, assigned to the capacity group."""
    return (
        (F("service_type") == ServiceType.INFRASTRUCTURE_EVENT)
        & (F("assigned_group") == config.capacity_group)
        & F("status").one_of(*OPEN)
    )


def is_candidate(incident: IncidentRequest, config: CapacityConfig) -> bool:
    return (
        incident.service_type is ServiceType.INFRASTRUCTURE_EVENT
        and incident.assigned_group == config.capacity_group
        and incident.status in OPEN
    )


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context) -> list[CapacityWarning]:
    config = ctx.config.capacity
    found = ctx.connector.find(IncidentRequest, candidates(config))
    return look_up(ctx.connector, found, config.table())


def look_up(
    connector: Connector, incidents: Iterable[IncidentRequest], overview: CapacityOverview
) -> list[CapacityWarning]:
    """Reading, overview row and open problem for each request; one problem query per row."""
    problems: dict[str, ProblemInvestigation | None] = {}
    warnings = []
    for incident in incidents:
        reading = read_reading(incident.details)
        row = None
        if reading is not None:
            names = [reading.ci, reading.node, incident.ci, incident.service]
            row = overview.lookup(names, reading.metric)
        problem = None
        if row is not None and reading is not None and row.exceeded(reading.value):
            if row.label not in problems:
                problems[row.label] = open_problem(connector, row)
            problem = problems[row.label]
        warnings.append(CapacityWarning(incident, reading, row, problem))
    return warnings


def open_problem(connector: Connector, row: OverviewRow) -> ProblemInvestigation | None:
    """The open problem investigation registered for this infrastructure and capacity level."""
    where = F("summary").startswith(problem_prefix(row)) & F("status").one_of(*OPEN_PROBLEM)
    return next(iter(connector.find(ProblemInvestigation, where, limit=1)), None)


# -- deciding -------------------------------------------------------------------------------------
def decide(
    warnings: Iterable[CapacityWarning], directory: Directory, config: CapacityConfig, trigger: str
) -> Plan:
    """The plan for these warnings (pure); warnings on one row in one run share one new problem."""
    plan = Plan(procedure=NAME, trigger=trigger)
    registered: dict[str, Ref] = {}
    for warning in warnings:
        handle(warning, directory, config, plan, registered)
    return plan


def handle(
    warning: CapacityWarning,
    directory: Directory,
    config: CapacityConfig,
    plan: Plan,
    registered: dict[str, Ref],
) -> None:
    incident, reading, row = warning.incident, warning.reading, warning.row
    record = str(incident.id)
    if reading is None:
        plan.note(
            record,
            "no action",
            "its details hold no smpm-reading line: the capacity manager looks up the "
            "utilisation level at which the event was generated",
        )
        return
    if row is None:
        where = reading.where or incident.ci or incident.service or "(no CI or service)"
        plan.note(
            record,
            "no action",
            f"{where} / {reading.metric or '(no metric)'} is not in the capacity tracking "
            "overview: the capacity manager decides",
        )
        return
    if row.exceeded(reading.value) is None:
        request_adjustment(warning, directory, config, plan)
    else:
        link_to_problem(warning, directory, config, plan, registered)


def _trigger(incident: IncidentRequest) -> str:
    return f"incident:{incident.id}:capacity-warning"


def request_adjustment(
    warning: CapacityWarning, directory: Directory, config: CapacityConfig, plan: Plan
) -> None:
    """Within every threshold: ask the monitoring group to adjust the job, then close."""
    incident, reading, row = warning.incident, warning.reading, warning.row
    assert reading is not None and row is not None
    job = row.monitoring_job or reading.job
    why = (
        f"{reading.metric} {row.show(reading.value)} does not exceed the thresholds of "
        f"'{row.label}' ({row.describe_thresholds()}): the monitoring job {job} generated the "
        f"event too early; an adjustment is requested from {config.monitoring_group}"
    )
    trigger = _trigger(incident)
    step = "request-monitoring-adjustment"
    requester = _requester(incident, directory, config)
    request = monitoring_request(incident, reading, row, requester, config)
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step=step,
            trigger=trigger,
            reason=reason(why),
            target_kind=RecordKind.INCIDENT,
            record=request,
        )
    )
    ref = Ref(trigger=trigger, step=step)
    # A nicety: ServiceNow links incidents to problems only; the resolution names the request.
    plan.add(
        _link(incident, RecordKind.INCIDENT, ref, "link-monitoring-request", why, optional=True)
    )
    resolution = (
        f"{PROCESS} {PROCEDURE}: {why}. Requested in the linked incident request "
        f"'{request.summary}'."
    )
    _close(incident, resolution, why, config, plan)
    plan.note(str(incident.id), "monitoring adjustment requested; closed", why)


def link_to_problem(
    warning: CapacityWarning,
    directory: Directory,
    config: CapacityConfig,
    plan: Plan,
    registered: dict[str, Ref],
) -> None:
    """Above a threshold: link to the open problem for the row (or a new one), then close."""
    incident, reading, row = warning.incident, warning.reading, warning.row
    assert reading is not None and row is not None
    name, threshold = row.exceeded(reading.value) or ("", 0.0)
    fired = (
        f"{reading.metric} {row.show(reading.value)} exceeds the {name} threshold "
        f"{row.show(threshold)} for '{row.label}'"
    )
    target: str | Ref
    if warning.problem is not None and warning.problem.id:
        target = warning.problem.id
        why = f"{fired}; linked to the open problem investigation {target}"
    elif row.label in registered:
        target = registered[row.label]
        why = f"{fired}; linked to the problem investigation registered for it in this run"
    else:
        target = _register(incident, reading, row, fired, directory, config, plan)
        registered[row.label] = target
        group = row.specialist_group or config.specialist_group
        why = (
            f"{fired}; no problem investigation is registered for it: a new one is, "
            f"{'assigned to ' + group if group else 'left for the problem coordinator to assign'}"
        )
    plan.add(_link(incident, RecordKind.PROBLEM, target, "link-problem", why))
    shown = target if isinstance(target, str) else f"'{problem_summary(row)}'"
    resolution = f"{PROCESS} {PROCEDURE}: {fired}. Linked to problem investigation {shown}."
    _close(incident, resolution, why, config, plan)
    plan.note(str(incident.id), "linked to a problem investigation; closed", why)


def _register(
    incident: IncidentRequest,
    reading: Reading,
    row: OverviewRow,
    fired: str,
    directory: Directory,
    config: CapacityConfig,
    plan: Plan,
) -> Ref:
    """Plan a new problem investigation for the row; its trigger names the incident and row."""
    trigger = f"incident:{incident.id}:capacity-problem:{row.label}"
    coordinator = directory.service_role(incident.service, "problem_coordinator")
    problem = capacity_problem(incident, reading, row, fired, coordinator, config)
    plan.add(
        Action(
            kind=ActionKind.CREATE,
            step="register-problem",
            trigger=trigger,
            reason=reason(f"{fired}; no problem investigation is registered for it"),
            target_kind=RecordKind.PROBLEM,
            record=problem,
        )
    )
    return Ref(trigger=trigger, step="register-problem")


def _requester(
    incident: IncidentRequest, directory: Directory, config: CapacityConfig
) -> str | None:
    """Who asks for the adjustment: the capacity manager holding the warning."""
    manager = directory.service_role(incident.service, "capacity_manager")
    return incident.assignee or manager or config.requester


def _link(
    incident: IncidentRequest,
    kind: RecordKind,
    target: str | Ref,
    step: str,
    why: str,
    *,
    optional: bool = False,
) -> Action:
    return incident_link(
        str(incident.id),
        to=kind,
        target=target,
        relation_type=RelationType.RELATED_TO,
        step=step,
        trigger=_trigger(incident),
        reason=reason(why),
        optional=optional,
    )


def _close(
    incident: IncidentRequest, resolution: str, why: str, config: CapacityConfig, plan: Plan
) -> None:
    """Resolved (reason and resolution), then Closed: the order both platforms accept."""
    rule = f"{why}; the capacity manager closes the incident request"
    for step, changes in (
        (
            "resolve",
            {
                "status": IncidentStatus.RESOLVED,
                "status_reason": config.close_status_reason,
                "resolution": resolution,
            },
        ),
        ("close", {"status": IncidentStatus.CLOSED, "resolution": resolution}),
    ):
        plan.add(
            Action(
                kind=ActionKind.UPDATE,
                step=step,
                trigger=_trigger(incident),
                reason=reason(rule),
                target_kind=RecordKind.INCIDENT,
                target_id=incident.id,
                changes=changes,
            )
        )


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context) -> Plan:
    """Every open capacity warning (scheduled)."""
    return decide(gather(ctx), ctx.directory(), ctx.config.capacity, ctx.trigger)


def for_record(ctx: Context, record_id: str) -> Plan:
    """One request, right after Event Handling registered it (webhook chaining)."""
    config = ctx.config.capacity
    incident = ctx.connector.get(IncidentRequest, record_id)
    if not is_candidate(incident, config):
        return Plan(procedure=NAME, trigger=ctx.trigger)
    warnings = look_up(ctx.connector, [incident], config.table())
    return decide(warnings, ctx.directory(), config, ctx.trigger)


def explain(ctx: Context, record_id: str) -> Plan:
    config = ctx.config.capacity
    incident = ctx.connector.get(IncidentRequest, record_id)
    plan = Plan(procedure=NAME, trigger=f"explain:{record_id}")
    if not is_candidate(incident, config):
        plan.note(
            record_id,
            "not a capacity warning",
            f"only open Infrastructure Event requests assigned to {config.capacity_group} are "
            f"handled; this one is {_state(incident)}",
        )
        return plan
    warnings = look_up(ctx.connector, [incident], config.table())
    plan.merge(decide(warnings, ctx.directory(), config, plan.trigger))
    return plan


def _state(incident: IncidentRequest) -> str:
    kind = incident.service_type.value if incident.service_type else "without service type"
    status = incident.status.value if incident.status else "without status"
    return f"{status}, {kind}, assigned to {incident.assigned_group or 'no group'}"


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=2,
    title="Capacity Warning Handling",
    triggers=(
        "schedule (every 15 minutes)",
        "webhook: after Event Handling registers a capacity warning",
        "manual",
    ),
    run=run,
    explain=explain,
)
