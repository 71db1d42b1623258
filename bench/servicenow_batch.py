"""Batch benchmark: many small writes on the ServiceNow face, one call each vs the Batch API.

The sandbox (its own process) holds the demo organisation plus 4,000 open incidents and answers
every call 5 ms late, as a nearby instance would. Each side makes the same 2,000 writes on its
own 1,000 incidents, named by number as procedures name them: an update (status In Progress,
assignment group, subcategory) and a work note on each incident. Once with
`ServiceNowConnector.update` and `add_note`, one call per write after a sys_id look-up per
incident; once with `ServiceNowConnector.apply_batch`, which looks the sys_ids up 100 to a query
and sends the writes 50 to a `POST /api/now/v1/batch` [reference 1.8]. Each side starts with a
new connector (nothing cached). Printed: the HTTP calls the sandbox counted, by route, and the
wall time of each side, against calls x latency. Then both sides' writes are checked on the
sandbox.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.servicenow_support import connector, prepare_database, reset_stats, routes, set_latency
from bench.support import sandbox_process, say
from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus
from connector.servicenow import RecordUpdate, ServiceNowConnector
from sandbox.server import DEMO_PASSWORD, DEMO_USER

INCIDENTS = 4_000
PER_SIDE = 1_000  # incidents per side: one update and one work note each
LATENCY_MS = 5
GROUPS = ("Service Desk", "Network Operations", "Application Support")
Writes = list[RecordUpdate | WorkNote]


def writes_for(numbers: list[str], label: str) -> Writes:
    """An update and a work note for every incident, in that order."""
    out: Writes = []
    for index, number in enumerate(numbers):
        changes = {
            "status": IncidentStatus.IN_PROGRESS,
            "assigned_group": GROUPS[index % len(GROUPS)],
            "operational_category_2": f"smpm-bench-{label}",
        }
        out.append(RecordUpdate(IncidentRequest, number, changes))
        out.append(
            WorkNote(
                parent_kind=RecordKind.INCIDENT, parent_id=number, text=f"smpm bench note {label}"
            )
        )
    return out


def one_by_one(sn: ServiceNowConnector, writes: Writes) -> None:
    for write in writes:
        if isinstance(write, WorkNote):
            sn.add_note(write)
        else:
            sn.update(write.model, write.record, write.changes)


def batched(sn: ServiceNowConnector, writes: Writes) -> None:
    failed = [r for r in sn.apply_batch(writes) if r is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} batched writes failed, the first: {failed[0]}")


def measure(
    url: str, run: Callable[[ServiceNowConnector, Writes], None], writes: Writes
) -> tuple[float, dict[str, int]]:
    reset_stats(url)
    started = time.perf_counter()
    with connector(url) as sn:
        run(sn, writes)
    wall = time.perf_counter() - started
    return wall, routes(url)


def count(url: str, table: str, query: str) -> int:
    """Rows matching an encoded query, from the Aggregate API [1.9]."""
    answer = requests.get(
        f"{url}/api/now/stats/{table}",
        params={"sysparm_count": "true", "sysparm_query": query},
        auth=(DEMO_USER, DEMO_PASSWORD),
        timeout=60,
    )
    return int(answer.json()["result"]["stats"]["count"])


def check(url: str, label: str) -> None:
    updated = count(url, "incident", f"subcategory=smpm-bench-{label}^state=2")
    notes = count(url, "sys_journal_field", f"value=smpm bench note {label}")
    if (updated, notes) != (PER_SIDE, PER_SIDE):
        raise RuntimeError(f"{label}: {updated} incidents updated and {notes} notes written")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "servicenow_batch.sqlite3"
        say(f"Preparing a sandbox with {INCIDENTS:,} open ServiceNow incidents ...")
        numbers = prepare_database(db, INCIDENTS, open_ratio=1.0)
        sides = {
            "one call per write": (one_by_one, writes_for(numbers[:PER_SIDE], "single")),
            "Batch API": (batched, writes_for(numbers[PER_SIDE : 2 * PER_SIDE], "batch")),
        }
        with sandbox_process(db, latency_ms=LATENCY_MS) as url:
            results = {name: measure(url, run, writes) for name, (run, writes) in sides.items()}
            set_latency(url, 0)
            check(url, "single")
            check(url, "batch")
    show(results)


def show(results: dict[str, tuple[float, dict[str, int]]]) -> None:
    total = 2 * PER_SIDE
    say(
        f"\n{total:,} writes ({PER_SIDE:,} incident updates + {PER_SIDE:,} work notes) per side, "
        f"sandbox latency {LATENCY_MS} ms per call"
    )
    for name, (wall, by_route) in results.items():
        made = sum(by_route.values())
        floor = made * LATENCY_MS / 1000
        say(f"\n  {name}")
        say(f"    HTTP calls : {made:,}")
        for route, n in sorted(by_route.items(), key=lambda item: -item[1]):
            say(f"      {n:>6,}  {route}")
        say(
            f"    wall time  : {wall:.1f} s ({wall / total * 1000:.1f} ms a write; "
            f"calls x latency {floor:.1f} s)"
        )
    (single, single_routes), (batch, batch_routes) = results.values()
    calls = sum(single_routes.values()) / max(1, sum(batch_routes.values()))
    say(
        f"\n  Batch API vs one call per write: {calls:.0f}x fewer calls, {single / batch:.1f}x "
        "less wall time"
    )


if __name__ == "__main__":
    main()
