"""Event storm: 10,000 deliveries over 300 CIs through `smpm serve` onto the sandbox.

The sandbox (its own process, the storm's CMDB and change added to the demo organisation) and
`smpm serve` (its own process, SMPM_BENCH_STORM_WORKERS event workers, default 4) run side by
side; the storm (bench/storm_scenario.py) is posted signed, 16 senders at a time, and the run
waits until every stored event is decided. Then it prints:

- incident requests P1 created against the minimum the scenario needs (target: equal), with
  any missing or extra named;
- ITSM API calls per delivered event and per stored (distinct) event, from the sandbox's own
  request counts, and how long deciding the storm took.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from bench.intake import SECRET, Connection, server
from bench.storm_scenario import SOURCE, Storm, build, storm_seed
from bench.support import connector, sandbox_process, say
from connector.entities import IncidentRequest
from connector.filters import Field
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.intake.auth import sign

WORKERS = int(os.environ.get("SMPM_BENCH_STORM_WORKERS", "4"))
TOTAL = int(os.environ.get("SMPM_BENCH_STORM_EVENTS", "10000"))
SENDERS = 16


async def deliver(url: str, bodies: list[bytes]) -> Counter[int]:
    """Post `bodies` in order, SENDERS at a time; the answers' status codes, counted."""
    statuses: Counter[int] = Counter()
    queue = iter(bodies)

    async def sender() -> None:
        connection = await Connection.open(url)
        try:
            for body in queue:
                headers = {
                    "X-Smpm-Signature": sign(SECRET, int(time.time()), body),
                    "Content-Type": "application/json",
                }
                statuses[await connection.post("/hooks/events", body, headers)] += 1
        finally:
            await connection.close()

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return statuses


def get_json(url: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def sandbox_calls(base: str) -> int:
    return int(sum(get_json(f"{base}/__sandbox/stats")["by_route"].values()))


def wait_until_decided(url: str, expected: int) -> dict[str, int]:
    while True:
        events = get_json(f"{url}/healthz")["events"]
        if events["pending"] + events["processing"] == 0 and sum(events.values()) >= expected:
            return events
        time.sleep(0.5)


def config_file(folder: Path, sandbox_url: str) -> Path:
    path = folder / "smpm.toml"
    path.write_text(
        f'platform = "remedy"\n[remedy]\nurl = "{sandbox_url}"\nusername = "{DEMO_USER}"\n'
        f'[database]\nurl = "sqlite:///{folder / "state.db"}"\n'
        f"[serve]\nport = 0\nworkers = {WORKERS}\npoll_seconds = 0.05\n"
        '[hooks.events]\nmethods = ["hmac"]\n'
        '[incident.assignment]\ndefault_group = "Service Desk"\n'
        '[event.handling]\ncustomer = "Maya"\n'
        '[logging]\nlevel = "WARNING"\n'
    )
    return path


def created(base: str) -> list[IncidentRequest]:
    with connector(base) as remedy:
        where = Field("event_key").startswith(f"{SOURCE}/")
        return list(remedy.find(IncidentRequest, where))


def main() -> None:
    storm = build(TOTAL)
    with tempfile.TemporaryDirectory(prefix="smpm-storm-") as tmp:
        folder = Path(tmp)
        sandbox = Sandbox(seed=storm_seed(), db_path=folder / "sandbox.db")
        sandbox.close()
        with sandbox_process(folder / "sandbox.db") as base:
            command = [sys.executable, "-m", "smpm", "--config", str(config_file(folder, base))]
            env = {"SMPM_HOOKS__EVENTS__SECRET": SECRET, "SMPM_REMEDY__PASSWORD": DEMO_PASSWORD}
            with server([*command, "serve"], env) as url:
                before = sandbox_calls(base)
                started = time.perf_counter()
                statuses: Counter[int] = Counter()
                for wave in storm.waves:
                    statuses += asyncio.run(deliver(url, wave))
                stored = len({b for wave in storm.waves for b in wave})
                events = wait_until_decided(url, stored)
                seconds = time.perf_counter() - started
                calls = sandbox_calls(base) - before
                metrics = urllib.request.urlopen(f"{url}/metrics").read().decode()
            requests = created(base)
    report(storm, statuses, events, requests, calls, seconds, metrics)


def report(
    storm: Storm,
    statuses: Counter[int],
    events: dict[str, int],
    requests: list[IncidentRequest],
    calls: int,
    seconds: float,
    metrics: str,
) -> None:
    made = Counter((r.ci or "", r.service_type.value if r.service_type else "") for r in requests)
    missing = storm.minimum - set(made)
    extra = {k: n - (k in storm.minimum) for k, n in made.items() if n > (k in storm.minimum)}
    stored = sum(events.values())
    deferred = _metric(metrics, "smpm_events_deferred_total")
    say(f"\nEvent storm: {storm.deliveries:,} deliveries over 300 CIs, {WORKERS} event workers")
    say(f"  answers: {dict(sorted(statuses.items()))}; stored {stored:,} distinct events")
    say(f"  decided: {events['done']:,} done, {events['dead']} dead; {deferred:.0f} deferrals")
    say(
        f"  incident requests created: {len(requests)}   minimum needed: {len(storm.minimum)}"
        f"   (target: equal)"
    )
    for ci, kind in sorted(missing):
        say(f"    missing: {kind} for {ci}")
    for (ci, kind), n in sorted(extra.items()):
        say(f"    extra: {n} x {kind} for {ci}")
    say(
        f"  ITSM calls: {calls:,} = {calls / storm.deliveries:.2f} per delivery, "
        f"{calls / max(stored, 1):.2f} per stored event"
    )
    say(f"  storm decided in {seconds:.1f} s ({stored / seconds:.0f} events/s)")


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


if __name__ == "__main__":
    main()
