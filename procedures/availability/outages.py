"""What Availability Tracking reads through the connector: outages, their problem links, problems.

An outage is an incident request of a restoration service type (`outage_service_types`) with at
least `outage_min_impact` on the SLA's service. It starts when the request was reported
(`reported_at`: Remedy's Reported Date, ServiceNow's opened_at; else its creation time) and
ends when service was restored (`resolved_at`: Last Resolved Date, resolved_at). A request
still open has not ended; one closed or cancelled without a resolution time ends when closed.
Cancelled requests were no outage and are not read.

Links: incident -> problem relations as each platform keeps them (Remedy association rows,
ServiceNow's problem_id on the incident), read by incident number in chunks. Problems: those
the requests are linked to, by number, and the open ones of the services, by service.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from connector.base import Connector
from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation
from connector.enums import Impact, IncidentStatus, ProblemStatus
from connector.filters import Field as F
from connector.filters import Filter
from procedures.availability.config import AvailabilityConfig
from procedures.availability.timeline import Interval, Outage

IMPACTS = [Impact.EXTENSIVE, Impact.SIGNIFICANT, Impact.MODERATE, Impact.MINOR]
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]
PREFIX = "[availability] "
Ticket = TypeVar("Ticket", IncidentRequest, ProblemInvestigation)


def problem_prefix(service: str) -> str:
    """'[availability] Online Banking:' starts the summary of every problem this procedure files."""
    return f"{PREFIX}{service}:"


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def severe(config: AvailabilityConfig) -> list[Impact]:
    return IMPACTS[: IMPACTS.index(config.outage_min_impact) + 1]


def is_outage(incident: IncidentRequest, config: AvailabilityConfig) -> bool:
    return (
        incident.service_type in config.outage_service_types
        and incident.impact in severe(config)
        and incident.status is not IncidentStatus.CANCELLED
    )


def active_within(window: Interval) -> Filter:
    """Requests reported before the window ends and not restored before it starts."""
    start, end = window
    return (F("reported_at") < end) & ((F("resolved_at") >= start) | F("resolved_at").is_null())


def outage_filter(config: AvailabilityConfig, window: Interval) -> Filter:
    return (
        F("service_type").one_of(*config.outage_service_types)
        & F("impact").one_of(*severe(config))
        & (F("status") != IncidentStatus.CANCELLED)
        & active_within(window)
    )


def read_by_service(
    connector: Connector,
    where: Filter,
    services: Sequence[str],
    config: AvailabilityConfig,
    model: type[Ticket] = IncidentRequest,
) -> dict[str, list[Ticket]]:
    """Requests (or other tickets) matching `where` on `services`, by service: named in the
    query while the names fit in `max_service_queries` queries, else one listing whose other
    services are dropped."""
    wanted = sorted(set(services))
    found: dict[str, list[Ticket]] = defaultdict(list)
    if len(wanted) > config.services_per_query * config.max_service_queries:
        keep = set(wanted)
        listings: Iterable[Iterator[Ticket]] = [connector.find(model, where)]
    else:
        keep = None
        listings = (
            connector.find(model, where & F("service").one_of(*chunk))
            for chunk in chunks(wanted, config.services_per_query)
        )
    for listing in listings:
        for ticket in listing:
            if ticket.service and (keep is None or ticket.service in keep):
                found[ticket.service].append(ticket)
    return dict(found)


def outage_of(incident: IncidentRequest) -> Outage | None:
    """The outage a request records (see the module docstring); None without a start time."""
    start = incident.reported_at or incident.created_at
    if start is None or incident.id is None:
        return None
    end = incident.resolved_at
    if end is None and incident.status is not None and not incident.status.is_open:
        end = incident.closed_at or incident.modified_at
    return Outage(incident.id, start, end)


def outages_of(incidents: Iterable[IncidentRequest], now: datetime) -> list[Outage]:
    found = (outage_of(i) for i in incidents)
    return [o for o in found if o is not None and o.start <= now]


def problem_links(
    connector: Connector, incident_ids: Sequence[str], config: AvailabilityConfig
) -> dict[str, set[str]]:
    """Incident number -> the problem investigations it is linked to.

    Asked by number, `ids_per_query` to a query; but a run of many numbers close together (an
    SLA period's outages, when most services are tracked) is asked as one range of numbers: the
    relations of the requests in between come along, and are dropped.
    """
    wanted = set(incident_ids)
    ranges, singles = read_plan(sorted(wanted), config)
    queries = [(F("source_id") >= first) & (F("source_id") <= last) for first, last in ranges]
    queries += [F("source_id").one_of(*chunk) for chunk in chunks(singles, config.ids_per_query)]
    to_problems = F("target_kind") == RecordKind.PROBLEM
    links: dict[str, set[str]] = defaultdict(set)
    for where in queries:
        for relation in connector.find(Relation, where & to_problems, within=RecordKind.INCIDENT):
            if relation.source_id in wanted and relation.target_kind is RecordKind.PROBLEM:
                links[relation.source_id].add(relation.target_id)
    return dict(links)


_NUMBER = re.compile(r"^(\D*)(\d+)$")


def read_plan(
    numbers: Sequence[str], config: AvailabilityConfig
) -> tuple[list[tuple[str, str]], list[str]]:
    """(first, last) of the runs worth reading as a range, and the numbers to ask one by one.

    A run: sorted numbers of one prefix and width, none more than `ids_per_query` x
    `range_span_factor` from the previous. It is read as a range when it holds more numbers than
    one query by number takes and spans at most `range_span_factor` requests per number.
    """
    gap = config.ids_per_query * config.range_span_factor
    runs: list[list[tuple[str, int]]] = []
    previous: tuple[str, int, int] | None = None
    for number in numbers:
        parts = _parts(number)
        if parts and previous and parts[:2] == previous[:2] and parts[2] - previous[2] <= gap:
            runs[-1].append((number, parts[2]))
        else:
            runs.append([(number, parts[2] if parts else 0)])
        previous = parts
    ranges, singles = [], []
    for run in runs:
        span = run[-1][1] - run[0][1] + 1
        if len(run) > config.ids_per_query and span <= config.range_span_factor * len(run):
            ranges.append((run[0][0], run[-1][0]))
        else:
            singles += [number for number, _ in run]
    return ranges, singles


def _parts(number: str) -> tuple[str, int, int] | None:
    """'INC000000000123' -> ('INC', 12, 123): prefix, width and value of a record number."""
    found = _NUMBER.match(number)
    return (found[1], len(found[2]), int(found[2])) if found else None


def read_problems(
    connector: Connector, ids: Iterable[str], per_query: int
) -> dict[str, ProblemInvestigation]:
    found: dict[str, ProblemInvestigation] = {}
    for chunk in chunks(sorted(set(ids)), per_query):
        for problem in connector.find(ProblemInvestigation, F("id").one_of(*chunk)):
            if problem.id:
                found[problem.id] = problem
    return found


def open_problems(
    connector: Connector, services: Sequence[str], config: AvailabilityConfig
) -> dict[str, ProblemInvestigation]:
    """The open problem investigations of `services` (those Availability Tracking registered
    among them), by number."""
    where = F("status").one_of(*OPEN_PROBLEM)
    by_service = read_by_service(connector, where, services, config, ProblemInvestigation)
    return {p.id: p for found in by_service.values() for p in found if p.id}
