"""kill -9 mid-burst: every accepted event is processed exactly once after the restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.codec import load_platform_mapping
from connector.entities import IncidentRequest
from connector.filters import Field
from sandbox.server import DEMO_PASSWORD, DEMO_USER, Sandbox
from smpm.intake.store import listing
from smpm.store import open_engine
from tests.integration.conftest import remedy_for

pytestmark = [pytest.mark.integration, pytest.mark.timeless]
TOKEN = "crash-test-token"
EVENTS = 120


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as sandbox:
        yield sandbox


def config_file(tmp_path: Path, sandbox: Sandbox) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text(
        f'[remedy]\nurl = "{sandbox.base_url}"\nusername = "{DEMO_USER}"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        "[serve]\nport = 0\nworkers = 2\npoll_seconds = 0.05\n"
        # Short timeouts, so a short lease outlasts one request (the settings check it): a
        # killed worker's events are taken again within seconds. Two workers in one lane:
        # the heartbeat keeps a batch leased however slowly it is worked (under libfaketime
        # too, where everything is slower).
        "[remedy.http]\nconnect_timeout = 1\nread_timeout = 2\nattempts = 2\n"
        "backoff = 0.1\nmax_backoff = 0.5\nmax_retry_after = 1\n"
        "[intake]\nlease_seconds = 8\n"
        '[hooks.events]\nmethods = ["bearer"]\n'
        '[event.handling]\ncustomer = "Maya"\n'
    )
    return path


def start(config: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "SMPM_REMEDY__PASSWORD": DEMO_PASSWORD, "SMPM_HOOKS__EVENTS__TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "smpm", "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "listening on " in line, line
    return process, line.split("listening on ", 1)[1].strip()


def burst(url: str, accepted: list[tuple[str, int]], half: threading.Event) -> None:
    """Post distinct conditions until the service dies; remember the ones answered 202."""
    session = requests.Session()
    for n in range(EVENTS):
        body = {
            "source": "crash",
            "ci": "san-array-01",
            "type": f"probe-{n}",
            "severity": "critical",
            "message": f"probe {n} failed",
            "time": "2026-11-25T10:00:00Z",
        }
        try:
            answer = session.post(
                url + "/hooks/events",
                json=body,
                timeout=5,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        except requests.RequestException:
            return
        if answer.status_code == 202:
            accepted.append((answer.json()["id"], n))
        if len(accepted) == EVENTS // 2:
            half.set()


def unfinished(url: str) -> int:
    events = requests.get(url + "/healthz", timeout=5).json()["events"]
    return int(events["pending"] + events["processing"])


def test_kill_9_during_a_burst_loses_nothing_and_duplicates_nothing(
    fresh: Sandbox, tmp_path: Path
) -> None:
    config = config_file(tmp_path, fresh)
    process, url = start(config)
    accepted: list[tuple[str, int]] = []
    half = threading.Event()
    poster = threading.Thread(target=burst, args=(url, accepted, half))
    poster.start()
    assert half.wait(30)
    process.send_signal(signal.SIGKILL)  # no shutdown, no flush: the hard way
    process.wait(timeout=10)
    poster.join(timeout=30)
    assert len(accepted) >= EVENTS // 2

    process, url = start(config)
    try:
        engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
        deadline = time.monotonic() + 90
        while unfinished(url):
            assert time.monotonic() < deadline, "events were not processed after the restart"
            time.sleep(0.1)  # waiting on another process; no behaviour depends on the timing
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    done = {r["id"] for r in listing(engine, ["done"], 10_000)}
    assert {event_id for event_id, _ in accepted} <= done
    assert not listing(engine, ["dead"], 10)
    with remedy_for(fresh, load_platform_mapping("remedy")) as remedy:
        keys = Counter(
            i.event_key
            for i in remedy.find(IncidentRequest, Field("event_key").startswith("crash/"))
        )
    assert all(n == 1 for n in keys.values()), "a condition got two incident requests"
    for _, n in accepted:
        assert keys[f"crash/san-array-01/probe-{n}//"] == 1
