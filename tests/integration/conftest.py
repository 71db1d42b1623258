"""A sandbox ITSM on loopback and connectors that talk to it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from connector.http import HttpOptions
from connector.remedy import RemedyConnector, RemedyOptions
from connector.sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from mappings.loader import PlatformMapping
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
