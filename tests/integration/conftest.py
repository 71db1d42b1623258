"""A sandbox ITSM on loopback and connectors that talk to it over real HTTP."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connector.base import Connector
from connector.codec import load_platform_mapping
from connector.http import HttpOptions
from connector.remedy import RemedyConnector, RemedyOptions
from connector.servicenow import ServiceNowConnector, ServiceNowOptions
from connector.servicenow.auth import ServiceNowCredentials
from mappings.loader import PlatformMapping
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.platforms import open_connector
from smpm.settings import Settings, load_settings
from tests.clocks import TestClock
from tests.connector.conftest import Sleeps


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as running:
        yield running


@pytest.fixture
def live(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with no faults, no latency and fresh counters."""
    sandbox.clear_faults()
    sandbox.set_latency(0)
    sandbox.reset_stats()
    yield sandbox
    sandbox.clear_faults()


def remedy_for(
    sandbox: Sandbox,
    mapping: PlatformMapping,
    *,
    page_size: int = 1000,
    sleeps: Sleeps | None = None,
    **http: object,
) -> RemedyConnector:
    options = RemedyOptions(
        base_url=sandbox.base_url,
        username=DEMO_USER,
        password=SecretStr(DEMO_PASSWORD),
        page_size=page_size,
        http=HttpOptions(sleep=sleeps or Sleeps(), **http),  # type: ignore[arg-type]
    )
    return RemedyConnector(options, mapping)


@pytest.fixture
def remedy_live(live: Sandbox, remedy_mapping: PlatformMapping) -> Iterator[RemedyConnector]:
    with remedy_for(live, remedy_mapping) as connector:
        yield connector


def servicenow_for(
    sandbox: Sandbox | str,
    mapping: PlatformMapping,
    *,
    credentials: ServiceNowCredentials | None = None,
    page_size: int = 1000,
    sleeps: Sleeps | None = None,
    **http: object,
) -> ServiceNowConnector:
    """A connector to the sandbox's ServiceNow face (or any base URL); basic auth as the demo
    user by default."""
    options = ServiceNowOptions(
        base_url=sandbox if isinstance(sandbox, str) else sandbox.base_url,
        credentials=credentials
        or ServiceNowCredentials("basic", DEMO_USER, SecretStr(DEMO_PASSWORD)),
        page_size=page_size,
        http=HttpOptions(sleep=sleeps or Sleeps(), **http),  # type: ignore[arg-type]
    )
    return ServiceNowConnector(options, mapping)


@pytest.fixture(scope="session")
def servicenow_mapping() -> PlatformMapping:
    return load_platform_mapping("servicenow")


@pytest.fixture
def servicenow_live(
    live: Sandbox, servicenow_mapping: PlatformMapping
) -> Iterator[ServiceNowConnector]:
    with servicenow_for(live, servicenow_mapping) as connector:
        yield connector


PLATFORMS = ("remedy", "servicenow")


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    """Each face of the sandbox in turn: a test taking `platform` runs on Remedy and ServiceNow."""
    return str(request.param)


def clocked_sandbox(start: datetime) -> tuple[Any, Any]:
    """The fixtures `clock` (a TestClock at `start`) and a fresh demo sandbox of the test's own
    that keeps the clock's time (its seed's relative dates count from it), for a module to bind
    under the names its tests use: `clock, fresh = clocked_sandbox(START)`."""

    @pytest.fixture
    def clock() -> TestClock:
        return TestClock(start)

    @pytest.fixture
    def sandbox(clock: TestClock) -> Iterator[Sandbox]:
        with Sandbox.start(port=0, seed="demo", clock=clock.seconds) as running:
            yield running

    return clock, sandbox


def seed_number(platform: str, n: int) -> str:
    """The number the n-th seeded incident gets on each face (ServiceNow starts at 10001)."""
    return f"INC{n:012d}" if platform == "remedy" else f"INC{10000 + n:07d}"


def platform_settings(platform: str, sandbox: Sandbox, state: Path, **overrides: Any) -> Settings:
    """Settings pointing at the sandbox's face for `platform`, fast retries, state in `state`."""
    from smpm.demo import sandbox_access

    access = sandbox_access(platform, sandbox.base_url)
    section = access[platform]
    assert isinstance(section, dict)
    section["http"] = {"attempts": 2, "backoff": 0.01, "max_backoff": 0.02}
    return load_settings(
        None, **access, database={"url": f"sqlite:///{state / 'state.db'}"}, **overrides
    )


def open_for(platform: str, sandbox: Sandbox) -> Connector:
    """A connector to the sandbox's face for `platform` (caller closes it)."""
    with tempfile.TemporaryDirectory() as state:
        return open_connector(platform_settings(platform, sandbox, Path(state)))
