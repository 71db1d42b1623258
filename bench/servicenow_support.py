"""What the ServiceNow benchmarks share: a database with ServiceNow incidents, a connector to
the sandbox's ServiceNow face, and the sandbox's request counters over its control routes.

The sandbox itself runs in its own process (`bench.support.sandbox_process`), as for the Remedy
benchmarks; it serves the ServiceNow Table API on the same port as the AR API.
"""

from __future__ import annotations

from pathlib import Path

import requests
from pydantic import SecretStr

from connector.codec import load_platform_mapping
from connector.http import HttpOptions
from connector.servicenow import ServiceNowConnector, ServiceNowOptions
from connector.servicenow.auth import ServiceNowCredentials
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox


def prepare_database(path: Path, incidents: int, *, open_ratio: float = 0.3) -> list[str]:
    """The demo organisation plus `incidents` generated ServiceNow incidents; their numbers."""
    sandbox = Sandbox(seed="demo", db_path=path)
    try:
        if not incidents:
            return []
        first, last = sandbox.generate_incidents(
            incidents, open_ratio=open_ratio, platform="servicenow"
        )
    finally:
        sandbox.close()
    start, end = int(first[3:]), int(last[3:])
    return [f"INC{n:07d}" for n in range(start, end + 1)]


def connector(base_url: str, *, page_size: int = 1000, batch_size: int = 50) -> ServiceNowConnector:
    """The demo user over basic auth, as `smpm` would open it from `[servicenow]`."""
    options = ServiceNowOptions(
        base_url=base_url,
        credentials=ServiceNowCredentials("basic", DEMO_USER, SecretStr(DEMO_PASSWORD)),
        page_size=page_size,
        batch_size=batch_size,
        http=HttpOptions(read_timeout=120),
    )
    return ServiceNowConnector(options, load_platform_mapping("servicenow"))


def routes(base_url: str, *, reset: bool = True) -> dict[str, int]:
    """Requests the sandbox answered since the last reset, by route (then reset them)."""
    stats = requests.get(base_url + "/__sandbox/stats", timeout=10).json()
    if reset:
        reset_stats(base_url)
    return dict(stats["by_route"])


def reset_stats(base_url: str) -> None:
    requests.delete(base_url + "/__sandbox/stats", timeout=10)


def set_latency(base_url: str, ms: float) -> None:
    requests.put(base_url + "/__sandbox/latency", json={"ms": ms}, timeout=10)
