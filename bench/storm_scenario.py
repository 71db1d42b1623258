"""The event storm: 300 CIs in a dependency tree, the events a bad morning sends, and the
incident requests Event Management P1 should make of them, no more and no fewer.

Topology (all `storm-*` CIs, added to the demo organisation):
- 10 switches; 4 hosts on each switch (40); 6 applications on each host (240); 10 databases
  that depend on nothing. "Storm Trading" depends on the applications of switches 0-8 and on
  the databases; "Storm Reporting" on the applications of switch 9.
- A scheduled change on Storm Reporting whose window covers the storm: switch 9 is in
  maintenance, and so is everything on it.

What goes wrong, and what P1 must make of it (the minimum):
- switches 0-2 go down: one Infrastructure Restoration each; their hosts and applications
  report unreachable and are related to the switch's outage (no request of their own);
- one host on each of switches 3-7 goes down: one request each; its applications are related;
- the 10 databases go down: one request each;
- 30 applications elsewhere report CPU above threshold: one Infrastructure Event each;
- switch 9, its hosts and applications all alert during the change window: planned, none;
- everything repeats, some conditions clear, and about a tenth of the deliveries are sent
  twice (a sender's retry): repeats are noted on the open request, redeliveries stored once.

The upstream failures are sent first (wave 1), then the rest in a shuffled order (wave 2), the
way a monitoring tool reports a failure before the alarms it sets off further down.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.seed import load_seed
from sandbox.seed_format import Seed

SOURCE = "storm"
SWITCHES, HOSTS_PER_SWITCH, APPS_PER_HOST, DATABASES = 10, 4, 6, 10
DOWN_SWITCHES = range(3)
DOWN_HOSTS = [s * HOSTS_PER_SWITCH + 1 for s in range(3, 8)]
MAINTENANCE_SWITCH = 9
CAPACITY_WARNINGS = 30
REDELIVERED = 0.1


def switch(n: int) -> str:
    return f"storm-sw-{n:02d}"


def host(n: int) -> str:
    return f"storm-host-{n:02d}"


def app(n: int) -> str:
    return f"storm-app-{n:03d}"


def database(n: int) -> str:
    return f"storm-db-{n:02d}"


def hosts_of(s: int) -> list[int]:
    return list(range(s * HOSTS_PER_SWITCH, (s + 1) * HOSTS_PER_SWITCH))


def apps_of(h: int) -> list[int]:
    return list(range(h * APPS_PER_HOST, (h + 1) * APPS_PER_HOST))


def storm_seed() -> Seed:
    """The demo organisation plus the storm's 300 CIs, two services and the change."""
    data = load_seed("demo").model_dump(by_alias=True, exclude_none=True)
    company = "Calbro Services"
    cis: list[dict[str, Any]] = [
        {"name": switch(s), "class": "network_switch", "company": company} for s in range(SWITCHES)
    ]
    for s in range(SWITCHES):
        for h in hosts_of(s):
            cis.append(
                {"name": host(h), "class": "server", "company": company, "depends_on": [switch(s)]}
            )
            cis += [
                {
                    "name": app(a),
                    "class": "application",
                    "company": company,
                    "depends_on": [host(h)],
                }
                for a in apps_of(h)
            ]
    cis += [
        {"name": database(d), "class": "database", "company": company} for d in range(DATABASES)
    ]
    reporting = [app(a) for h in hosts_of(MAINTENANCE_SWITCH) for a in apps_of(h)]
    trading = [c["name"] for c in cis if c["class"] in ("application", "database")]
    data["cis"] += cis
    data["services"] += [
        {
            "name": "Storm Trading",
            "company": company,
            "capacity_manager": "Carl",
            "depends_on": [n for n in trading if n not in reporting],
        },
        {
            "name": "Storm Reporting",
            "company": company,
            "capacity_manager": "Carl",
            "depends_on": reporting,
        },
    ]
    data["changes"].append(
        {
            "ref": "chg-storm-reporting",
            "summary": "Storm Reporting platform maintenance",
            "service": "Storm Reporting",
            "status": "scheduled",
            "assigned_group": "Network Operations",
            "scheduled_start": "-1h",
            "scheduled_end": "+6h",
            "opened": "-2d",
        }
    )
    return Seed.model_validate(data)


@dataclass
class Storm:
    waves: list[list[bytes]] = field(default_factory=list)
    minimum: set[tuple[str, str]] = field(default_factory=set)  # (CI, service type)

    @property
    def deliveries(self) -> int:
        return sum(len(w) for w in self.waves)


def build(total: int = 10_000, seed: int = 2026) -> Storm:
    """`total` deliveries (redeliveries included), deterministic for a given seed."""
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0)
    tick = iter(range(10**9))

    def event(ci: str, kind: str, severity: str, message: str, **extra: Any) -> bytes:
        at = start + timedelta(seconds=next(tick) % 3600)
        body = {"source": SOURCE, "node": ci, "type": kind, "severity": severity}
        body |= {"message": message, "time": at.isoformat().replace("+00:00", "Z"), **extra}
        return json.dumps(body).encode()

    storm = Storm()
    first: list[bytes] = []
    rest: list[bytes] = []
    upstream = [switch(s) for s in DOWN_SWITCHES] + [host(h) for h in DOWN_HOSTS]
    upstream += [database(d) for d in range(DATABASES)]
    for ci in upstream:
        first.append(event(ci, "availability", "critical", f"{ci} unreachable"))
        storm.minimum.add((ci, "infrastructure_restoration"))
    dependents = [host(h) for s in DOWN_SWITCHES for h in hosts_of(s)]
    dependents += [app(a) for s in DOWN_SWITCHES for h in hosts_of(s) for a in apps_of(h)]
    dependents += [app(a) for h in DOWN_HOSTS for a in apps_of(h)]
    maintenance = [switch(MAINTENANCE_SWITCH)] + [host(h) for h in hosts_of(MAINTENANCE_SWITCH)]
    maintenance += [app(a) for h in hosts_of(MAINTENANCE_SWITCH) for a in apps_of(h)]
    healthy = sorted(
        {
            app(a)
            for s in range(3, 9)
            for h in hosts_of(s)
            if h not in DOWN_HOSTS
            for a in apps_of(h)
        }
    )
    warned = rng.sample(healthy, CAPACITY_WARNINGS)
    storm.minimum |= {(ci, "infrastructure_event") for ci in warned}
    makers = [
        *(
            lambda ci=ci: event(ci, "availability", "critical", f"{ci} unreachable")
            for ci in upstream
        ),
        *(
            lambda ci=ci: event(ci, "availability", "major", f"{ci} unreachable")
            for ci in dependents
        ),
        *(lambda ci=ci: event(ci, "availability", "critical", f"{ci} down") for ci in maintenance),
        *(lambda ci=ci: _reading(event, ci, rng) for ci in warned),
    ]
    clears = [
        lambda ci=ci: event(ci, "availability", "clear", f"{ci} reachable again")
        for ci in rng.sample(upstream, 5)
    ]
    unique = round((total - len(first)) / (1 + REDELIVERED)) - len(clears)
    bodies = [rng.choice(makers)() for _ in range(unique)] + [make() for make in clears]
    for body in bodies:  # the conditions that clear do so last
        rest.append(body)
        if rng.random() < REDELIVERED:
            rest.append(body)  # the sender did not hear the 202 in time and sends it again
    while len(first) + len(rest) < total:
        rest.append(rng.choice(bodies))  # a late retry
    del rest[total - len(first) :]
    storm.waves = [first, rest]
    return storm


def _reading(event: Any, ci: str, rng: random.Random) -> bytes:
    value = round(rng.uniform(91, 99), 1)
    return event(
        ci,
        "cpu",
        "warning",
        f"CPU {value}% on {ci}",
        metric="cpu.utilisation",
        value=value,
        threshold=90,
    )
