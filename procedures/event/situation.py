"""Gathering what Event Handling decides on: as few ITSM reads as the decision needs.

Reads happen in the order of the decisions, and stop as soon as one settles the event: most
events in a storm repeat a condition that already has an incident request, and those cost one
read. The CMDB's shape comes from the cached snapshot, not from the ITSM per event.

Every question is asked whole: the connector pages, and a long list of values (the services a
CI supports, the changes linked to it) is asked in chunks, each of them, so that no answer
depends on how many other records the ITSM holds (a capped list of "the changes in the window"
would miss the one that matters once enough others are open).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from connector.base import Connector
from connector.entities import (
    Change,
    ConfigurationItem,
    Event,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
)
from connector.enums import (
    ChangeStatus,
    EventSeverity,
    Impact,
    IncidentStatus,
    ProblemStatus,
    ServiceType,
)
from connector.filters import Field as F
from connector.filters import Filter
from procedures.event.cmdb import CmdbSnapshot
from procedures.event.handling import (
    DEGRADATION,
    OUTAGE,
    HandlingConfig,
    Situation,
    Window,
    is_reading,
    past_threshold,
    symptom,
    unlisted_prefix,
)

OPEN = [s for s in IncidentStatus if s.is_open]
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]
IMPACTS = [Impact.EXTENSIVE, Impact.SIGNIFICANT, Impact.MODERATE, Impact.MINOR]
APPROVED = [ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTATION_IN_PROGRESS]
# Values per "one of" condition: keeps a qualification or encoded query (and its URL) short.
# Every chunk is asked, so this bounds a query, never an answer.
CHUNK = 40


def gather(
    connector: Connector,
    event: Event,
    occurrence: int,
    cmdb: CmdbSnapshot,
    config: HandlingConfig,
) -> Situation:
    ci = cmdb.find(event.ci) or cmdb.find(event.node)
    services = cmdb.supported_services(ci) if ci is not None else []
    base = {"event": event, "occurrence": occurrence, "ci": ci, "services": services}
    name = ci.name if ci is not None else (event.ci or event.node)
    key = str(event.message_key)
    found = _requests_for(connector, event, name)
    same_key = [i for i in found if i.event_key == key]
    base["episode"] = len(same_key)
    current = next((i for i in same_key if i.status in OPEN), None)
    if current is None:
        current = next((i for i in found if i.event_key != key and i.status in OPEN), None)
    if event.severity is EventSeverity.CLEAR or current is not None:
        return Situation(**base, current=current)
    if is_reading(event) and not past_threshold(event):
        return Situation(**base)  # within its threshold: information, whatever else holds
    if is_reading(event):
        warning, problem = _warning_closed_into_problem(connector, same_key)
        if problem is not None:
            return Situation(**base, problem=problem, warning=warning)
    if ci is None and (is_reading(event) or event.severity in (*OUTAGE, *DEGRADATION)):
        ci = base["ci"] = _ci_in_itsm(connector, event)
    change, window = _planned(connector, ci, services, event, config)
    if change is not None or window is not None:
        return Situation(**base, change=change, window=window)
    deps = cmdb.dependencies(ci, config.dependency_depth) if ci and not is_reading(event) else []
    cause = _open_outage_on(connector, deps, config) if deps else None
    return Situation(**base, cause=cause)


def _requests_for(connector: Connector, event: Event, name: str | None) -> list[IncidentRequest]:
    """One query for both: this condition's requests (any status), and open ones on the same
    CI and symptom: by their CI, or, registered while the CMDB lacked the CI, by the node
    their summary names after the symptom."""
    where: Filter = F("event_key") == str(event.message_key)
    if name:
        still_open = F("status").one_of(*OPEN)
        where |= (F("ci") == name) & F("summary").startswith(symptom(event)) & still_open
        where |= F("summary").startswith(unlisted_prefix(event, name)) & still_open
    return list(connector.find(IncidentRequest, where))


def _ci_in_itsm(connector: Connector, event: Event) -> ConfigurationItem | None:
    """The CI the event names, asked of the ITSM when the snapshot lacks it (the snapshot may
    predate it). Asked once, for an event heading for a new request: a request is registered
    without its CI only when the ITSM holds none of that name either."""
    names = list(dict.fromkeys(n for n in (event.ci, event.node) if n))
    if not names:
        return None
    found: dict[str, ConfigurationItem] = {}
    for ci in connector.find(ConfigurationItem, F("name").one_of(*names)):
        if ci.name:  # checked again on the answer, as the snapshot compares names
            found.setdefault(ci.name.casefold(), ci)
    return next((found[n.casefold()] for n in names if n.casefold() in found), None)


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


# -- not the first: a capacity warning Capacity Management P2 closed into a problem ---------------
def _warning_closed_into_problem(
    connector: Connector, requests: list[IncidentRequest]
) -> tuple[IncidentRequest | None, ProblemInvestigation | None]:
    """This condition's latest closed capacity warning that is linked to a problem
    investigation still open, and that problem.

    Capacity Management P2 closes a warning once "it has been linked to an existing or a new
    problem investigation"; the shortage is then worked in the problem, and a further reading
    of the same condition is "not the first event" of it. A warning closed for a monitoring
    adjustment is linked to no problem, and a problem that is closed no longer covers the
    condition: then the reading is a first warning again."""
    warnings = [
        i
        for i in requests
        if i.id and i.status not in OPEN and i.service_type is ServiceType.INFRASTRUCTURE_EVENT
    ]
    if not warnings:
        return None, None
    ids = [str(i.id) for i in warnings]
    linked: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        where = F("source_id").one_of(*chunk) & (F("target_kind") == RecordKind.PROBLEM)
        for link in connector.find(Relation, where, within=RecordKind.INCIDENT):
            if link.source_id in ids and link.target_kind is RecordKind.PROBLEM:
                linked.setdefault(link.source_id, []).append(link.target_id)
    problems = _open_problems(connector, [p for targets in linked.values() for p in targets])
    for warning in reversed(warnings):  # the connector answers in creation order: latest last
        problem = next(
            (problems[p] for p in linked.get(str(warning.id), ()) if p in problems), None
        )
        if problem is not None:
            return warning, problem
    return None, None


def _open_problems(connector: Connector, ids: list[str]) -> dict[str, ProblemInvestigation]:
    unique = list(dict.fromkeys(ids))
    found: dict[str, ProblemInvestigation] = {}
    for chunk in _chunks(unique):
        where = F("id").one_of(*chunk) & F("status").one_of(*OPEN_PROBLEM)
        for problem in connector.find(ProblemInvestigation, where):
            if problem.id in unique and problem.status in OPEN_PROBLEM:
                found[problem.id] = problem
    return found


# -- planned: a maintenance window, or an approved change of the CI or its services ---------------
def _planned(
    connector: Connector,
    ci: ConfigurationItem | None,
    services: list[str],
    event: Event,
    config: HandlingConfig,
) -> tuple[Change | None, Window | None]:
    """The maintenance window or approved change the event falls in (a window is free to
    check, so a change is asked for only without one)."""
    when = event.occurred_at
    if when is None:
        return None, None
    name = ci.name if ci is not None else (event.ci or event.node)
    window = next((w for w in config.maintenance if w.covers(name, services, when)), None)
    if window is not None:
        return None, window
    return _change_in_window(connector, ci, services, when), None


def _change_in_window(
    connector: Connector, ci: ConfigurationItem | None, services: list[str], when: datetime
) -> Change | None:
    """An approved change whose window covers `when` and that names the CI or a service it
    supports. The changes of these CIs and services are asked for, not the changes in the
    window: how many other changes are open does not matter. Platforms name a change's CI in
    a field (ServiceNow's cmdb_ci) or in association rows (Remedy's CHG:Associations)."""
    names = list(dict.fromkeys(n for n in [ci.name if ci else None, *services] if n))
    in_window = (
        F("status").one_of(*APPROVED)
        & (F("scheduled_start") <= when)
        & (F("scheduled_end") >= when)
    )
    by_field = connector.maps(RecordKind.CHANGE, "ci")
    wanted = {n.casefold() for n in names}
    for chunk in _chunks(names):
        names_it: Filter = F("service").one_of(*chunk)
        if by_field:
            names_it = F("ci").one_of(*chunk) | names_it
        for change in connector.find(Change, in_window & names_it):
            named = {(change.ci or "").casefold(), (change.service or "").casefold()}
            if _covers(change, when) and named & wanted:
                return change
    if by_field or ci is None or not ci.id:
        return None
    return _associated_change(connector, ci.id, in_window, when)


def _associated_change(
    connector: Connector, ci_id: str, in_window: Filter, when: datetime
) -> Change | None:
    """An approved change in its window among those whose association rows name the CI."""
    links = connector.find(Relation, F("target_id") == ci_id, within=RecordKind.CHANGE)
    ids = list(dict.fromkeys(r.source_id for r in links if r.target_id == ci_id))
    for chunk in _chunks(ids):
        for change in connector.find(Change, F("id").one_of(*chunk) & in_window):
            if change.id in ids and _covers(change, when):
                return change
    return None


def _covers(change: Change, when: datetime) -> bool:
    """Checked again on the answer: approved, and its window covers the event."""
    start, end = change.scheduled_start, change.scheduled_end
    return (
        change.status in APPROVED and start is not None and end is not None and start <= when <= end
    )


# -- another CI: an outage being worked on, on a CI this one depends on ----------------------------
def _open_outage_on(
    connector: Connector, cis: list[str], config: HandlingConfig
) -> IncidentRequest | None:
    """The nearest of `cis` with an outage being worked on, by the order `cis` come in."""
    severe = IMPACTS[: IMPACTS.index(config.cause_min_impact) + 1]
    working = [s for s in OPEN if s is not IncidentStatus.PENDING]
    found: dict[str | None, IncidentRequest] = {}
    for chunk in _chunks(cis):
        where = (
            F("ci").one_of(*chunk)
            & F("status").one_of(*working)
            & (F("service_type") == ServiceType.INFRASTRUCTURE_RESTORATION)
            & F("impact").one_of(*severe)
        )
        found.update({i.ci: i for i in connector.find(IncidentRequest, where)})
    return next((found[c] for c in cis if c in found), None)
