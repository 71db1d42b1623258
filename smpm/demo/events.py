"""The demo's third part: monitoring events through the webhook service, as a tool sends them.

`smpm serve`'s own app listens on a free loopback port; the demo posts signed events to it over
HTTP (an outage, its repeats, a CI that depends on it, a capacity reading, an event during
maintenance, a redelivery, a forged signature, the all-clear), works them with one event
worker, and shows what Event Management P1 (and Capacity Management P2 after it) decided.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from pydantic import SecretStr

from connector.entities import IncidentRequest, ProblemInvestigation
from connector.enums import ReportedSource
from connector.filters import Field
from smpm.demo.clock import DemoClock
from smpm.intake.auth import HookAuth, sign
from smpm.intake.config import HooksSection
from smpm.intake.service import Service, listening, running
from smpm.intake.store import listing
from smpm.platforms import open_connector
from smpm.render import table
from smpm.settings import Settings

Echo = Callable[[str], None]


def events_tour(settings: Settings, clock: DemoClock, echo: Echo) -> None:
    echo(f"\n== 3. Event Management: monitoring events through `smpm serve` {'=' * 40}"[:101])
    secret = secrets.token_hex(16)
    hooks = HooksSection(events=HookAuth(methods=["hmac"], secret=SecretStr(secret)))
    before = {i.id for i in from_monitoring(settings)}
    with running(
        settings.model_copy(update={"hooks": hooks}), workers=0, clock=clock.now
    ) as service:
        with listening(service) as url:
            echo(f"Webhook service at {url}/hooks/events (HMAC-signed bodies)")
            cis = post_storm(url, secret, clock, echo)
        echo("\n-- One event worker decides them, oldest first (`smpm events` lists them)")
        service.drain()
        show_decisions(service, cis, echo)
    show_requests(settings, before, echo)


def storm(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    def event(minute: int, **fields: Any) -> dict[str, Any]:
        at = (now + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = {"source": "zabbix", "type": "availability", "severity": "critical", "time": at}
        return base | fields

    outage = event(0, ci="db-node-01", message="db-node-01 unreachable")
    return [
        ("an outage", outage),
        *(
            (f"repeat {n}", event(n, ci="db-node-01", message="db-node-01 unreachable"))
            for n in (1, 2, 3)
        ),
        (
            "a CI that depends on it",
            event(4, ci="db-cluster-01", type="replication", severity="major", message="stopped"),
        ),
        (
            "a capacity reading",
            event(
                5,
                ci="app-bank-02",
                type="cpu",
                metric="cpu.utilisation",
                severity="warning",
                message="CPU 97% on app-bank-02",
                value=97,
                threshold=90,
            ),
        ),
        ("during maintenance", event(6, ci="core-sw-02", message="core-sw-02 port flapping")),
        ("the outage, redelivered", outage),
        ("the all-clear", event(9, ci="db-node-01", severity="clear", message="reachable")),
    ]


def post_storm(url: str, secret: str, clock: DemoClock, echo: Echo) -> dict[str, str]:
    """Post the storm, signed on the demo's clock (the service checks signatures on the
    same clock); returns the CI of each stored event, by event id."""
    rows, cis = [], {}
    with requests.Session() as session:
        for what, body in storm(clock.now()):
            raw = json.dumps(body).encode()
            signature = sign(secret, int(clock()), raw)
            answer = session.post(
                f"{url}/hooks/events",
                data=raw,
                headers={"Content-Type": "application/json", "X-Smpm-Signature": signature},
                timeout=10,
            )
            reply = answer.json()
            cis[reply["id"]] = body["ci"]
            said = f"id {reply['id'][-8:]}" + (" (duplicate)" if reply.get("duplicate") else "")
            rows.append((what, body["ci"], answer.status_code, said))
        forged = session.post(
            f"{url}/hooks/events",
            data=b'{"source": "x"}',
            headers={"X-Smpm-Signature": "t=1,v1=00"},
            timeout=10,
        )
        rows.append(("a forged signature", "-", forged.status_code, forged.json()["error"]))
    echo(table(("posted", "CI", "answer", ""), rows, 100))
    return cis


def show_decisions(service: Service, cis: dict[str, str], echo: Echo) -> None:
    done = sorted(listing(service.engine, ["done", "dead"], 50), key=lambda r: r["id"])
    echo(
        table(
            ("event", "CI", "decision"),
            (
                (r["id"][-8:], cis.get(r["id"], ""), r["outcome"] or r["last_error"] or "")
                for r in done
            ),
            100,
        )
    )


def from_monitoring(settings: Settings) -> list[IncidentRequest]:
    with open_connector(settings) as connector:
        where = Field("reported_source") == ReportedSource.SYSTEMS_MANAGEMENT
        return [i for i in connector.find(IncidentRequest, where) if i.event_key]


def show_requests(settings: Settings, before: set[str | None], echo: Echo) -> None:
    echo("\n-- The incident requests those events made, and the capacity problem they feed")
    made = [i for i in from_monitoring(settings) if i.id not in before]
    echo(
        table(
            ("request", "type", "CI", "status", "group / assignee"),
            (
                (
                    i.id,
                    i.service_type.value if i.service_type else "",
                    i.ci or "",
                    i.status.value if i.status else "",
                    f"{i.assigned_group or '-'} / {i.assignee or '-'}",
                )
                for i in made
            ),
            100,
        )
    )
    with open_connector(settings) as connector:
        capacity = Field("summary").startswith("[capacity]")
        for problem in connector.find(ProblemInvestigation, capacity):
            echo(f"Problem investigation {problem.id}: {problem.summary}")
