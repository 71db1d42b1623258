"""`smpm demo`: the product on the embedded sandbox ITSM, end to end, with nothing to install.

Starts the sandbox in-process on a free loopback port, seeded with the demo organisation, and
1. drives the real connector over real HTTP through a round trip an integration engineer would
   recognise: log in, read the organisation, register an incident request through the interface
   form, link it to a problem investigation, add a work note, change it, read it back;
2. runs the Incident Management procedures as an operator would: a dry run of the routing
   (nothing written), the routing itself, the same run again (nothing changes), the SLA tracking
   with its escalations (again twice), and the audit log of what was done and why;
3. posts monitoring events to the webhook service (`events.py`);
4. runs the tracking procedures and writes the managers' reports (`tracking.py`).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from connector.entities import (
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    Service,
    SupportGroup,
    WorkNote,
)
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
from connector.remedy import RemedyConnector
from connector.servicenow import ServiceNowConnector
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.audit_log import audit_rows
from smpm.demo.clock import DEFAULT_START, DemoClock
from smpm.demo.events import events_tour
from smpm.demo.tracking import reports_tour
from smpm.platforms import open_connector
from smpm.render import report_table, rule_of, table
from smpm.runner import run_procedure
from smpm.settings import Settings, load_settings
from smpm.store import open_engine

DEMO_SETTINGS = Path(__file__).with_name("demo.toml")

Echo = Callable[[str], None]
ItsmConnector = RemedyConnector | ServiceNowConnector


PLATFORMS = {
    "remedy": {
        "name": "AR System REST API",
        "create": "HPD:IncidentInterface_Create",
        "key": "Request ID",
        "links": "HPD:Associations",
        "notes": "HPD:WorkLog",
    },
    "servicenow": {
        "name": "ServiceNow Table API",
        "create": "the incident table",
        "key": "sys_id",
        "links": "incident.problem_id",
        "notes": "the incident's work_notes journal",
    },
}


def sandbox_access(platform: str, base_url: str) -> dict[str, object]:
    """Settings overrides that point smpm at the sandbox's face for `platform`."""
    login = {"url": base_url, "username": DEMO_USER, "password": DEMO_PASSWORD}
    if platform == "servicenow":
        return {"platform": "servicenow", "servicenow": {**login, "auth": "basic"}}
    return {"platform": "remedy", "remedy": login}


def run_demo(
    echo: Echo,
    *,
    reports: Path,
    platform: str = "remedy",
    latency_ms: int = 0,
    start: datetime = DEFAULT_START,
) -> list[Path]:
    """Run the four parts on the demo's own clock, which starts at `start`; returns the report
    files written to `reports` (which stay)."""
    clock = DemoClock(start)
    with Sandbox.start(port=0, seed="demo", latency_ms=latency_ms, clock=clock) as sandbox:
        face = PLATFORMS[platform]
        echo(f"Embedded sandbox ITSM ({face['name']}) at {sandbox.base_url}")
        echo(f"The demo's clock starts at {clock.now():%Y-%m-%d %H:%M} UTC (`--at` moves it).")
        echo(f"\n== 1. The connector, over HTTP {'=' * 70}"[:101])
        with tempfile.TemporaryDirectory(prefix="smpm-demo-") as state:
            settings = demo_settings(platform, sandbox.base_url, Path(state), reports, clock.now())
            with open_connector(settings) as connector:
                round_trip(connector, face, clock, echo)
                echo(f"\nThe connector made {connector.calls} API calls.")
            procedures_tour(settings, sandbox, clock, echo)
            events_tour(settings, clock, echo)
            written = reports_tour(settings, Path(state), clock, echo)
        echo("\nSee `smpm --help` for the commands, README.md for using smpm on your server.")
    return written


def demo_settings(
    platform: str, base_url: str, state: Path, reports: Path, now: datetime
) -> Settings:
    """The demo's settings: smpm/demo/demo.toml plus the sandbox, a state database, a roster and a
    maintenance window around `now`, and the reports folder."""
    roster = {
        "on_duty": [
            {
                "login": "Olivia",
                "start": now - timedelta(hours=12),
                "end": now + timedelta(hours=12),
            }
        ],
        "absences": [
            {"login": "Nate", "start": now - timedelta(days=1), "end": now + timedelta(days=2)}
        ],
    }
    maintenance = {
        "ci": "core-sw-02",
        "start": now - timedelta(hours=1),
        "end": now + timedelta(hours=2),
        "reason": "optics replacement on core-sw-02",
    }
    return load_settings(
        DEMO_SETTINGS,
        **sandbox_access(platform, base_url),
        database={"url": f"sqlite:///{state / 'smpm-state.db'}"},
        roster=roster,
        event={"handling": {"customer": "Maya", "maintenance": [maintenance]}},
        reports={"folder": str(reports)},
    )


def procedures_tour(settings: Settings, sandbox: Sandbox, clock: DemoClock, echo: Echo) -> None:
    echo(f"\n== 2. Incident Management procedures {'=' * 70}"[:101])
    echo("Roster: Olivia is the on-duty manager; Nate (owner of Network Connectivity) is away.")
    step(echo, "P2 routing, as a dry run (`smpm run incident.assignment --dry-run`)")
    before = _writes(sandbox)
    echo(
        report_table(run_procedure(settings, "incident.assignment", dry_run=True, clock=clock.now))
    )
    echo(f"-> ITSM writes during the dry run: {_writes(sandbox) - before}")
    step(echo, "P2 routing, for real (`smpm run incident.assignment`)")
    echo(report_table(run_procedure(settings, "incident.assignment", clock=clock.now)))
    step(echo, "P2 routing again: the routed requests are no longer new and unassigned")
    before = _writes(sandbox)
    again = run_procedure(settings, "incident.assignment", clock=clock.now)
    echo(
        f"{again.count('skipped')} action(s) skipped, {again.count('applied')} applied; "
        f"ITSM writes: {_writes(sandbox) - before}"
    )
    step(echo, "P3 SLA tracking (`smpm run incident.tracking`)")
    echo(report_table(run_procedure(settings, "incident.tracking", clock=clock.now)))
    step(echo, "P3 SLA tracking again, a run later: one escalation per request and threshold")
    before = _writes(sandbox)
    again = run_procedure(settings, "incident.tracking", clock=clock.now)
    echo(
        f"{again.count('skipped')} action(s) skipped, {again.count('applied')} applied; "
        f"ITSM writes: {_writes(sandbox) - before}"
    )
    step(echo, "The audit log (`smpm audit`)")
    engine = open_engine(settings.database.url)
    rows = list(audit_rows(engine, limit=8))
    engine.dispose()
    echo(
        table(
            ("procedure", "action", "target", "outcome", "reason"),
            (
                (r["procedure"], r["action"], r["target_id"], r["outcome"], rule_of(r["reason"]))
                for r in rows
            ),
            80,
        )
    )


def step(echo: Echo, title: str) -> None:
    echo(f"\n-- {title}")


def _writes(sandbox: Sandbox) -> int:
    """Requests that could change data (anything but GET and login/logout)."""
    routes = sandbox.stats()["by_route"]
    return sum(
        n
        for route, n in routes.items()
        if not route.startswith("GET ") and "/api/jwt/" not in route
    )


Face = dict[str, str]


def round_trip(connector: ItsmConnector, face: Face, clock: DemoClock, echo: Echo) -> None:
    show_organisation(connector, echo)
    incident = register_incident(connector, face, clock.now(), echo)
    problem = register_problem(connector, echo)
    link_and_note(connector, incident, problem, face, echo)
    assign(connector, incident, echo)


def show_organisation(connector: ItsmConnector, echo: Echo) -> None:
    echo("\nServices and the people SMPM routes to:")
    for service in connector.find(Service):
        echo(
            f"  {service.name:<22} owner {service.owner or '-':<10} "
            f"change coordinator {service.change_coordinator or '-':<10} "
            f"capacity manager {service.capacity_manager or '-'}"
        )
    echo("\nSupport groups and their coordinators:")
    for group in connector.find(SupportGroup):
        echo(f"  {group.name:<28} coordinator {group.coordinator or '-'}")
    open_statuses = [s for s in IncidentStatus if s.is_open]
    incidents = list(connector.find(IncidentRequest, Field("status").one_of(*open_statuses)))
    counts = Counter(i.status.value if i.status else "?" for i in incidents)
    unassigned = [i for i in incidents if not i.assigned_group]
    echo(f"\nOpen incident requests: {len(incidents)} ({dict(sorted(counts.items()))})")
    echo(f"  of which new and unassigned (work for Incident Management P2): {len(unassigned)}")
    for item in unassigned[:5]:
        echo(f"    {item.id}  {item.service or '-':<18} {item.summary}")


def register_incident(
    connector: ItsmConnector, face: Face, now: datetime, echo: Echo
) -> IncidentRequest:
    stamp = now.strftime("%H%M%S")
    created = connector.create(
        IncidentRequest(
            summary="Online Banking: login page answers HTTP 502",
            details="Raised by the demo: monitoring reports 502s from the web tier.",
            status=IncidentStatus.NEW,
            impact=Impact.SIGNIFICANT,
            urgency=Urgency.HIGH,
            service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
            reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
            service="Online Banking",
            customer=DEMO_USER,
            correlation_id=f"smpm-demo-{stamp}",
        )
    )
    priority = created.priority.value if created.priority else "?"
    echo(
        f"\nRegistered incident request {created.id} through {face['create']}; the key updates "
        f"use is its {face['key']} {created.platform_id}. Priority computed by the server: "
        f"{priority}."
    )
    return created


def register_problem(connector: ItsmConnector, echo: Echo) -> ProblemInvestigation:
    problem = connector.create(
        ProblemInvestigation(
            summary="Recurring 502s on the Online Banking web tier",
            status=ProblemStatus.UNDER_REVIEW,
            impact=Impact.SIGNIFICANT,
            urgency=Urgency.HIGH,
            service="Online Banking",
        )
    )
    echo(f"Registered problem investigation {problem.id} for it.")
    return problem


def link_and_note(
    connector: ItsmConnector,
    incident: IncidentRequest,
    problem: ProblemInvestigation,
    face: Face,
    echo: Echo,
) -> None:
    assert incident.id and problem.id
    connector.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id=incident.id,
            target_kind=RecordKind.PROBLEM,
            target_id=problem.id,
            relation_type=RelationType.CAUSED_BY,
        )
    )
    connector.add_note(
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id=incident.id,
            summary="Linked to problem investigation",
            text=f"Linked to {problem.id} (demo round trip).",
        )
    )
    links = list(
        connector.find(Relation, Field("source_id") == incident.id, within=RecordKind.INCIDENT)
    )
    echo(
        f"Linked {incident.id} -> {problem.id} on {face['links']} ({len(links)} link(s) read "
        f"back); added a work note on {face['notes']}."
    )


def assign(connector: ItsmConnector, incident: IncidentRequest, echo: Echo) -> None:
    connector.update(
        IncidentRequest,
        incident,
        {"assigned_group": "Application Support", "status": IncidentStatus.ASSIGNED},
    )
    assert incident.id
    after = connector.get(IncidentRequest, incident.id)
    echo(
        f"Assigned {after.id} to {after.assigned_group}, writing only the changed fields; "
        f"status now {after.status.value if after.status else '?'}."
    )
