"""Incident Management P3 on the ServiceNow face: escalations with and without the Batch API.

The sandbox (its own process, 5 ms per call) holds the demo organisation plus 5,000 open
ServiceNow incidents submitted over the last two days, each with a 3-day resolution SLA
(task_sla), so about a quarter are past their warning point and get an escalation work note.
The same first run of `incident.tracking` is made twice on two copies of that database: with
`[servicenow] batch_size = 50` (the default: consecutive work notes share
`POST /api/now/v1/batch` calls) and with `batch_size = 0` (one PATCH of `work_notes` per note).
Printed for each: the calls by route and the wall time, against calls x latency.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.servicenow_support import routes, set_latency
from bench.support import sandbox_process, say
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.executor import RunReport
from smpm.runner import run_procedure
from smpm.settings import load_settings

OPEN_INCIDENTS = 5_000
LATENCY_MS = 5


def prepare(db: Path) -> None:
    sandbox = Sandbox(seed="demo", db_path=db)
    try:
        sandbox.generate_incidents(
            OPEN_INCIDENTS,
            open_ratio=1.0,
            days=2,
            measurements=True,
            measurement_goal=3 * 86400,
            platform="servicenow",
        )
    finally:
        sandbox.close()


def run(db: Path, state: Path, batch_size: int) -> tuple[RunReport, dict[str, int], float]:
    with sandbox_process(db, latency_ms=0) as url:
        settings = load_settings(
            None,
            platform="servicenow",
            servicenow={
                "url": url,
                "username": DEMO_USER,
                "password": DEMO_PASSWORD,
                "batch_size": batch_size,
            },
            database={"url": f"sqlite:///{state}"},
        )
        routes(url)  # reset the counters
        set_latency(url, LATENCY_MS)
        started = time.perf_counter()
        report = run_procedure(settings, "incident.tracking")
        wall = time.perf_counter() - started
        return report, routes(url), wall


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "tracking.sqlite3"
        say(f"Preparing a sandbox with {OPEN_INCIDENTS:,} open ServiceNow incidents and SLAs ...")
        prepare(base)
        results = {}
        for label, size in (("Batch API (batch_size = 50)", 50), ("one call per write", 0)):
            db = Path(tmp) / f"copy-{size}.sqlite3"
            shutil.copyfile(base, db)
            results[label] = run(db, Path(tmp) / f"state-{size}.db", size)
        show(results)


def show(results: dict[str, tuple[RunReport, dict[str, int], float]]) -> None:
    say(f"\nincident.tracking, first run, {LATENCY_MS} ms per call")
    for label, (report, by_route, wall) in results.items():
        notes = sum(1 for o in report.outcomes if o.action.kind.value == "add_note")
        calls = sum(n for r, n in by_route.items() if "/oauth" not in r)
        say(f"\n  {label}: {report.count('applied'):,} actions applied ({notes:,} work notes)")
        say(f"    HTTP calls : {calls:,}")
        for route, n in Counter(by_route).most_common(5):
            say(f"      {n:>6,}  {route}")
        say(f"    wall time  : {wall:.1f} s (calls x latency {calls * LATENCY_MS / 1000:.1f} s)")
    (_, batched, fast), (_, single, slow) = results.values()
    ratio = sum(single.values()) / max(1, sum(batched.values()))
    say(f"\n  Batch API: {ratio:.0f}x fewer calls, {slow / fast:.1f}x less wall time")


if __name__ == "__main__":
    main()
