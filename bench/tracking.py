"""Tracking benchmark: Incident Management P3 over 50,000 open incidents, 5 ms per API call.

The sandbox (its own process) holds the demo organisation plus 50,000 open generated incidents
with their SLM measurements; every call it answers waits 5 ms, as a nearby ITSM would. Two runs:
the first escalates every breaching target (one work note each), the second finds everything
already done (the steady state of a job that runs every few minutes).

For each run: the API calls made against the minimum a client needs (one call per page of the
breaching targets and of their incidents, one per page of services and groups, one per work note
to write; page = 1,000 rows), and the wall time against calls x latency.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import requests

from bench.support import connector, sandbox_process, say
from connector.entities import IncidentRequest, MeasurementStatus, ServiceTarget
from connector.enums import IncidentStatus
from connector.filters import Field
from connector.sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.runner import run_procedure
from smpm.settings import load_settings

OPEN_INCIDENTS = 50_000
LATENCY_MS = 5
PAGE = 1000


def prepare(db: Path) -> None:
    sandbox = Sandbox(seed="demo", db_path=db)
    try:
        sandbox.generate_incidents(OPEN_INCIDENTS, open_ratio=1.0, days=4, measurements=True)
    finally:
        sandbox.close()


def api_calls(url: str) -> dict[str, int]:
    stats = requests.get(url + "/__sandbox/stats", timeout=10).json()
    requests.delete(url + "/__sandbox/stats", timeout=10)
    routes = stats["by_route"]
    return {
        "login": sum(n for r, n in routes.items() if "/api/jwt/" in r),
        "reads": sum(n for r, n in routes.items() if r.startswith("GET /api/arsys")),
        "writes": sum(
            n for r, n in routes.items() if not r.startswith("GET") and "/api/arsys" in r
        ),
    }


def minimum(url: str) -> tuple[int, int]:
    """(pages that must be read, notes that must be written), counted without latency."""
    breaching = [MeasurementStatus.WARNING, MeasurementStatus.MISSED, MeasurementStatus.MISSED_GOAL]
    with connector(url) as remedy:
        targets = list(remedy.find(ServiceTarget, Field("status").one_of(*breaching)))
        wanted = {t.request_id for t in targets}
        open_now = Field("status").one_of(*(s for s in IncidentStatus if s.is_open))
        concerned = sum(1 for i in remedy.find(IncidentRequest, open_now) if i.id in wanted)
    pages = math.ceil(len(targets) / PAGE) + math.ceil(concerned / PAGE) + 2  # + services, groups
    return pages, len(targets)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tracking.sqlite3"
        say(f"Preparing a sandbox with {OPEN_INCIDENTS:,} open incidents and their SLA targets ...")
        prepare(db)
        with sandbox_process(db, latency_ms=LATENCY_MS) as url:
            settings = load_settings(
                None,
                remedy={"url": url, "username": DEMO_USER, "password": DEMO_PASSWORD},
                database={"url": f"sqlite:///{Path(tmp) / 'state.db'}"},
            )
            requests.put(url + "/__sandbox/latency", json={"ms": 0}, timeout=10)
            pages, notes = minimum(url)
            requests.put(url + "/__sandbox/latency", json={"ms": LATENCY_MS}, timeout=10)
            api_calls(url)
            for label, writes in (("first run", notes), ("second run", 0)):
                started = time.perf_counter()
                report = run_procedure(settings, "incident.tracking")
                wall = time.perf_counter() - started
                calls = api_calls(url)
                show(label, report.count("applied"), calls, pages, writes, wall)


def show(
    label: str, applied: int, calls: dict[str, int], pages: int, writes: int, wall: float
) -> None:
    made = calls["reads"] + calls["writes"]
    needed = pages + writes
    floor = made * LATENCY_MS / 1000
    say(f"\n{label}: {applied:,} actions applied")
    say(f"  API calls made    : {made:,} ({calls['reads']:,} reads, {calls['writes']:,} writes) "
        f"+ {calls['login']} login")
    say(f"  minimum needed    : {needed:,} ({pages:,} pages, {writes:,} writes)")
    say(f"  ratio             : {made / needed:.3f}   (target <= 1.1)")
    say(f"  wall time         : {wall:.1f} s vs calls x latency {floor:.1f} s "
        f"({wall / floor:.2f}x; the rest is the sandbox's own work and smpm's durable bookkeeping)")


if __name__ == "__main__":
    main()
