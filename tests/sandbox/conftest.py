"""Fixtures for the sandbox tests: running sandboxes over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from tests.sandbox.support import AR, FakeClock


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The demo organisation, shared by every test that only adds its own records."""
    with Sandbox.start(seed="demo") as running:
        yield running


@pytest.fixture(scope="session")
def ar(sandbox: Sandbox) -> AR:
    return AR(sandbox.base_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(clock: FakeClock) -> Iterator[Sandbox]:
    """A fresh demo sandbox whose time moves only when the test says so."""
    with Sandbox.start(seed="demo", clock=clock) as running:
        yield running


@pytest.fixture
def faulty() -> Iterator[Sandbox]:
    """An empty sandbox for fault and latency tests, so their rules cannot leak elsewhere."""
    with Sandbox.start(seed=None) as running:
        yield running
