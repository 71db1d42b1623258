"""Tracking benchmark: Incident Management P3 over 50,000 open incidents, 5 ms per API call.

The sandbox (its own process) holds the demo organisation plus 50,000 open incidents submitted
over the last two days, each with a 3-day resolution target (warning at 50%), so about a quarter
of them are past their warning point. Every call the sandbox answers waits 5 ms, as a nearby ITSM
would. Two runs: the first escalates every breaching target (one work note each); the second,
right after, is the steady state of a job that runs every few minutes.

For each run: the API calls made against the minimum a client needs: the pages of breaching
targets, the pages of the requests that still need a decision, one page each of services and
groups, and one write per work note (page = 1,000 rows); and the wall time against calls x
latency.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import requests

from bench.support import api_calls, connector, sandbox_process, say
from connector.entities import MeasurementStatus, ServiceTarget
from connector.filters import Field
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.executor import RunReport
from smpm.runner import run_procedure
from smpm.settings import load_settings

OPEN_INCIDENTS = 50_000
LATENCY_MS = 5
PAGE = 1000
BREACHING = [MeasurementStatus.WARNING, MeasurementStatus.MISSED, MeasurementStatus.MISSED_GOAL]


def prepare(db: Path) -> None:
    sandbox = Sandbox(seed="demo", db_path=db)
    try:
        sandbox.generate_incidents(
            OPEN_INCIDENTS, open_ratio=1.0, days=2, measurements=True, measurement_goal=3 * 86400
        )
    finally:
        sandbox.close()


def breaching_targets(url: str) -> int:
    """How many targets are at warning or missed now (read with latency off)."""
    requests.put(url + "/__sandbox/latency", json={"ms": 0}, timeout=10)
    with connector(url) as remedy:
        count = sum(1 for _ in remedy.find(ServiceTarget, Field("status").one_of(*BREACHING)))
    requests.put(url + "/__sandbox/latency", json={"ms": LATENCY_MS}, timeout=10)
    requests.delete(url + "/__sandbox/stats", timeout=10)
    return count


def minimum(targets: int, report: RunReport) -> tuple[int, int]:
    """(pages that must be read, writes that must be made) for what this run decided."""
    decided = {f.record for f in report.plan.findings}
    pages = math.ceil(targets / PAGE) + math.ceil(len(decided) / PAGE) + 2  # services, groups
    writes = sum(1 for o in report.outcomes if o.action.kind.value == "add_note")
    return pages, writes


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
            for label in ("first run", "second run"):
                targets = breaching_targets(url)
                started = time.perf_counter()
                report = run_procedure(settings, "incident.tracking")
                wall = time.perf_counter() - started
                show(label, targets, report, api_calls(url), wall)


def show(label: str, targets: int, report: RunReport, calls: dict[str, int], wall: float) -> None:
    pages, writes = minimum(targets, report)
    made, needed = calls["reads"] + calls["writes"], pages + writes
    floor = made * LATENCY_MS / 1000
    say(f"\n{label}: {targets:,} breaching targets, {report.count('applied'):,} actions applied")
    say(
        f"  API calls made : {made:,} ({calls['reads']:,} reads, {calls['writes']:,} writes) "
        f"+ {calls['login']} login"
    )
    say(f"  minimum needed : {needed:,} ({pages:,} pages, {writes:,} writes)")
    say(f"  ratio          : {made / needed:.3f}   (target <= 1.1)")
    say(f"  wall time      : {wall:.1f} s vs calls x latency {floor:.1f} s ({wall / floor:.1f}x)")


if __name__ == "__main__":
    main()
