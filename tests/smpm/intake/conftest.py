"""An intake store on a temporary SQLite file, and the webhook app in front of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from smpm.intake.app import create_app
from smpm.intake.auth import HookAuth, sign
from smpm.intake.config import HooksSection, ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.store import counts
from smpm.intake.writer import GroupWriter
from smpm.store import open_engine, utcnow
from tests.postgres import BACKENDS, database_url

SECRET = "whsec-0123456789abcdef"
TOKEN = "tok-abcdef0123456789"
NOW = 1_764_115_200  # fixed "now" for signatures


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The intake store: SQLite, or each backend in turn where a module says `ON_BOTH_STORES`."""
    engine = open_engine(database_url(request, tmp_path, "intake.db"))
    yield engine
    engine.dispose()


# For modules about the store itself: every test runs on SQLite and on PostgreSQL. The HTTP-level
# tests (test_webhooks.py) stay on SQLite: they are about the requests, not the store.
ON_BOTH_STORES = pytest.mark.parametrize("engine", BACKENDS, indirect=True)


HOOKS = HooksSection(
    events=HookAuth(methods=["hmac", "bearer"], secret=SecretStr(SECRET), token=SecretStr(TOKEN)),
    alertmanager=HookAuth(methods=["bearer"], token=SecretStr(TOKEN)),
    remedy=HookAuth(methods=["basic"], username="remedy-hook", password=SecretStr("pa55")),
)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    writer = GroupWriter(engine, utcnow)
    metrics = IntakeMetrics(lambda: counts(engine))
    app = create_app(
        ServeSection(max_body_bytes=4096), HOOKS, engine, writer, metrics, now=lambda: NOW
    )
    with TestClient(app) as test_client:
        yield test_client
    writer.close()


def event_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "zabbix",
        "node": "app-bank-02",
        "type": "cpu",
        "resource": "cpu0",
        "metric": "cpu.utilisation",
        "severity": "warning",
        "message": "CPU at 97%",
        "value": 97.0,
        "threshold": 90.0,
        "time": "2026-11-25T10:00:00Z",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def signed(body: Any, *, at: int = NOW, secret: str = SECRET) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    return {
        "content": raw,
        "headers": {"X-Smpm-Signature": sign(secret, at, raw), "Content-Type": "application/json"},
    }


def stored(engine: Engine) -> int:
    return sum(counts(engine).values())
