"""Two `smpm serve` processes on one store and a slow ITSM: every condition gets one incident.

The sandbox answers every API call late and rate limits creates with 429 and Retry-After, so
deciding a claimed batch takes several times the lease. Before the heartbeat, the leases of
the events still waiting in a worker's batch ran out, the other process took them, and both
registered the same condition (what the kill -9 test showed under libfaketime). Now the
heartbeat keeps them leased: no lease is lost, and each condition is decided once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from connector.entities import IncidentRequest
from connector.filters import Field
from sandbox.server import Sandbox
from smpm.intake.store import counts, listing
from smpm.store import open_engine
from tests.integration.conftest import open_for
from tests.integration.served import health, metric, post_event, serving, wait_for, write_config
from tests.postgres import database_url

pytestmark = [pytest.mark.integration, pytest.mark.timeless]
API = {"remedy": "/api/arsys", "servicenow": "/api/now"}
CIS = ("san-array-01", "san-array-02", "core-sw-01")
# Per CI, in order: four conditions, two of them repeated.
KINDS = ("probe-a", "probe-a", "probe-b", "probe-c", "probe-b", "probe-d")
CONDITIONS = {f"lease/{ci}/{kind}//" for ci in CIS for kind in KINDS}
LEASE = 4.0
# One request lasts at most 2 x (0.3 + 1.2) + 1 x max(0.2, 0.5) = 3.5 s < LEASE (checked at
# load); with 250 ms on every call, a worker's batch of six takes several leases.
HTTP = {
    "connect_timeout": 0.3,
    "read_timeout": 1.2,
    "attempts": 2,
    "backoff": 0.05,
    "max_backoff": 0.2,
    "max_retry_after": 0.5,
}


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store the test names: "sqlite" or "postgresql" (tests/postgres.py)."""
    return database_url(request, tmp_path)


# Each platform once and each store once: a case takes some 17 s of two real processes.
CASES = [
    pytest.param("remedy", "sqlite", id="remedy-sqlite"),
    pytest.param(
        "servicenow", "postgresql", id="servicenow-postgresql", marks=pytest.mark.postgresql
    ),
]


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as sandbox:
        yield sandbox


def bodies() -> list[dict[str, object]]:
    """Grouped by CI, so one claim of six takes one CI's lane and new conditions wait in the
    batch behind slow ones."""
    return [
        {
            "source": "lease",
            "ci": ci,
            "type": kind,
            "severity": "critical",
            "message": f"{ci} {kind} failed",
            "time": f"2026-11-25T10:0{minute}:00Z",
        }
        for ci in CIS
        for minute, kind in enumerate(KINDS)
    ]


@pytest.mark.parametrize(("platform", "database"), CASES, indirect=["database"])
def test_a_slow_itsm_and_two_processes_give_one_incident_per_condition(
    platform: str, fresh: Sandbox, database: str, tmp_path: Path
) -> None:
    sections = {
        f"{platform}.http": HTTP,
        "serve": {"port": 0, "poll_seconds": 0.05, "workers": 2},
        "intake": {
            "lease_seconds": LEASE,
            "claim_batch": 6,
            "max_attempts": 20,
            "backoff_seconds": 0.2,
            "max_backoff_seconds": 1,
            "breaker_probe_seconds": 0.2,
            "breaker_max_probe_seconds": 1,
        },
    }
    config = write_config(tmp_path / "smpm.toml", platform, fresh.base_url, sections)
    control = fresh.base_url + "/__sandbox"
    requests.put(control + "/latency", json={"ms": 250}, timeout=5).raise_for_status()
    rate_limit = {"status": 429, "retry_after": "1", "method": "POST", "count": 6}
    requests.post(
        control + "/faults", json={**rate_limit, "path_prefix": API[platform]}, timeout=5
    ).raise_for_status()
    with ExitStack() as stack:
        urls = [stack.enter_context(serving(config, platform, database)) for _ in range(2)]
        session = requests.Session()
        accepted = [post_event(session, urls[n % 2], body) for n, body in enumerate(bodies())]
        wait_for(lambda: health(urls[0])["events"]["done"] == len(accepted), "all decided")
        lost = sum(metric(url, "smpm_events_lease_lost_total", endpoint="events") for url in urls)
        renewed = sum(metric(url, "smpm_event_lease_renewals_total") for url in urls)
    requests.put(control + "/latency", json={"ms": 0}, timeout=5).raise_for_status()

    engine = open_engine(database)
    try:
        assert counts(engine) == {"pending": 0, "processing": 0, "done": 18, "dead": 0}
        assert {r["id"] for r in listing(engine, ["done"], 100)} == set(accepted)
    finally:
        engine.dispose()
    with open_for(platform, fresh) as itsm:
        keys = Counter(
            i.event_key for i in itsm.find(IncidentRequest, Field("event_key").startswith("lease/"))
        )
    assert keys == dict.fromkeys(CONDITIONS, 1), "one incident per condition"
    assert renewed > 0 and lost == 0, "the heartbeat kept every lease"
    assert fresh.stats()["by_status"].get("429", 0) >= 1  # the rate limit was met
