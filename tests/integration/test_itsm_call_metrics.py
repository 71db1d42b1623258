"""`smpm_itsm_call_seconds`: every call smpm makes to the ITSM is observed, by platform, method,
form or table and status, in the process that makes it (workers, scheduled and manual runs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from connector.entities import IncidentRequest
from sandbox.server import Sandbox
from smpm.demo import DEMO_SETTINGS
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.service import running
from smpm.platforms import open_connector
from smpm.runner import run_procedure
from smpm.settings import load_settings
from tests.integration.conftest import PLATFORMS, platform_settings, seed_number

pytestmark = pytest.mark.integration
METRIC = "smpm_itsm_call_seconds"
INCIDENTS = {"remedy": "HPD:IncidentInterface", "servicenow": "incident"}
TOKEN = "metrics-token"


def calls(registry: CollectorRegistry, **labels: str) -> float:
    """How many calls the registry has seen with these labels (all of them when none)."""
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == f"{METRIC}_count" and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def answered(sandbox: Sandbox) -> int:
    """Requests the sandbox answered, but Remedy's logout: connector.remedy.auth sends it on
    the bare session at close, outside connector.http.send and so outside the observer."""
    routes = sandbox.stats()["by_route"]
    return sum(n for route, n in routes.items() if "/api/jwt/logout" not in route)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_call_through_the_connector_is_observed_with_its_labels(
    platform: str, live: Sandbox, tmp_path: Path
) -> None:
    """One observation per request the sandbox answered, labelled with the form or table."""
    registry = IntakeMetrics(lambda: {}).registry
    read = {"platform": platform, "method": "GET", "resource": INCIDENTS[platform]}
    before, reads_before = calls(registry), calls(registry, **read, status="200")
    with open_connector(platform_settings(platform, live, tmp_path)) as itsm:
        itsm.get(IncidentRequest, seed_number(platform, 1))
    assert calls(registry) - before == answered(live)
    assert calls(registry, **read, status="200") == reads_before + 1
    if platform == "remedy":  # the login is a call too, under its own name
        assert calls(registry, platform="remedy", method="POST", resource="jwt/login") >= 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_run_is_observed(platform: str, live: Sandbox, tmp_path: Path) -> None:
    """`smpm run` and the scheduler go through the same connector factory."""
    registry = IntakeMetrics(lambda: {}).registry
    settings = platform_settings(
        platform, live, tmp_path, incident=load_settings(DEMO_SETTINGS).incident.model_dump()
    )
    before = calls(registry, platform=platform)
    run_procedure(settings, "incident.tracking", dry_run=True)
    assert calls(registry, platform=platform) - before == answered(live) > 0


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own: the event below registers an incident request."""
    with Sandbox.start(port=0, seed="demo") as sandbox:
        yield sandbox


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_webhook_workers_calls_show_on_metrics(
    platform: str, fresh: Sandbox, tmp_path: Path
) -> None:
    """An event worked by the service's workers shows its ITSM calls on GET /metrics."""
    settings = platform_settings(
        platform,
        fresh,
        tmp_path,
        hooks={"events": {"methods": ["bearer"], "token": TOKEN}},
        incident=load_settings(DEMO_SETTINGS).incident.model_dump(),
    )
    body = {
        "source": "zabbix",
        "type": "availability",
        "severity": "warning",
        "ci": "app-bank-02",
        "message": "slow",
        "time": "2026-11-25T10:00:00Z",
    }
    with running(settings, workers=0) as service:
        client = TestClient(service.app)
        before = calls(service.metrics.registry, platform=platform)
        answer = client.post(
            "/hooks/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert answer.status_code == 202, answer.text
        assert service.drain() == 1
        page = client.get("/metrics").text
    assert calls(service.metrics.registry, platform=platform) - before >= 1
    assert f'{METRIC}_count{{method="GET",platform="{platform}"' in page
