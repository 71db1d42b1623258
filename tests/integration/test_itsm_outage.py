"""The ITSM down during a burst of events, then back: nothing dead, everything decided once.

With the attempts spent on the outage, a five-minute outage buried 296 of 300 events and
nothing drained when the ITSM came back (our red-team run; 120 events show it here). Now `smpm
serve` pauses its workers (the circuit breaker), probes the ITSM with a cheap read until it
answers, and drains the backlog; the events keep their attempts. The outage is either the ITSM
answering 503 to every API call (a sandbox fault) or a loopback proxy in front of it that
refuses connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from connector.entities import IncidentRequest
from connector.filters import Field
from sandbox.server import Sandbox
from smpm.intake.store import counts, listing
from smpm.store import open_engine
from tests.integration.conftest import PLATFORMS, open_for
from tests.integration.served import health, metric, post_event, serving, wait_for, write_config
from tests.postgres import database_url

pytestmark = [pytest.mark.integration, pytest.mark.timeless]
API = {"remedy": "/api/arsys", "servicenow": "/api/now"}
EVENTS = 120
# The demo's CIs that depend on none: an event on one is a condition of its own.
CIS = ("san-array-01", "san-array-02", "core-sw-01", "core-sw-02")
KINDS = ("probe-a", "probe-b", "probe-c")  # per CI: twelve conditions, 10 events each
CONDITIONS = {f"outage/{ci}/{kind}//" for ci in CIS for kind in KINDS}


class Proxy:
    """A loopback TCP proxy to the sandbox that can refuse connections (its port closed, as
    when the ITSM's host is down) and listen again on the same port."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        return listener

    def refuse(self) -> None:
        """New connections are refused, and the open ones (kept alive by the clients) cut."""
        _close(self._listener)  # wakes the accept() of the listening thread; close() alone does not
        self._listener.close()
        self._thread.join(10)
        with self._lock:
            open_now, self._open = self._open, []
        for end in open_now:
            _close(end)

    def resume(self) -> None:
        self._listener = self._listen(self.port)
        self._thread = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed: refusing
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(end: socket.socket) -> None:
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store: "sqlite" or "postgresql" (tests/postgres.py), as the test names it."""
    return database_url(request, tmp_path)


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    with Sandbox.start(port=0, seed="demo") as sandbox:
        yield sandbox


def burst() -> list[dict[str, object]]:
    """EVENTS events: twelve conditions on four CIs, each reported 10 times, interleaved."""
    return [
        {
            "source": "outage",
            "ci": CIS[n % len(CIS)],
            "type": KINDS[(n // len(CIS)) % len(KINDS)],
            "severity": "critical",
            "message": f"probe failed (report {n})",
            "time": f"2026-11-25T10:{n // 10 % 60:02d}:{n % 10:02d}Z",
        }
        for n in range(EVENTS)
    ]


def settings(platform: str) -> dict[str, dict[str, object]]:
    """Two attempts per event: spent on the outage, every event would be dead."""
    return {
        f"{platform}.http": {
            "connect_timeout": 1,
            "read_timeout": 5,
            "attempts": 2,
            "backoff": 0.05,
            "max_backoff": 0.2,
            "max_retry_after": 1,
        },
        "serve": {"port": 0, "poll_seconds": 0.05, "workers": 2},
        "intake": {
            "lease_seconds": 15,
            "max_attempts": 2,
            "backoff_seconds": 0.1,
            "breaker_probe_seconds": 0.1,
            "breaker_max_probe_seconds": 0.5,
        },
    }


OUTAGES = ["503", "refused"]


@pytest.mark.parametrize(
    ("platform", "outage", "database"),
    [pytest.param(p, o, "sqlite", id=f"{p}-{o}-sqlite") for p in PLATFORMS for o in OUTAGES]
    + [
        pytest.param(
            "remedy", "503", "postgresql", id="remedy-503-postgresql", marks=pytest.mark.postgresql
        )
    ],
    indirect=["database"],
)
def test_a_burst_during_an_outage_is_decided_once_when_the_itsm_is_back(
    platform: str, outage: str, fresh: Sandbox, database: str, tmp_path: Path
) -> None:
    proxy = Proxy(fresh.base_url)
    config = write_config(tmp_path / "smpm.toml", platform, proxy.url, settings(platform))
    control = fresh.base_url + "/__sandbox/faults"
    with serving(config, platform, database) as url:
        wait_for(lambda: health(url)["itsm"]["state"] == "closed", "the service started")
        if outage == "503":
            fault = {"status": 503, "count": 1_000_000, "path_prefix": API[platform]}
            requests.post(control, json=fault, timeout=5).raise_for_status()
        else:
            proxy.refuse()
        session = requests.Session()
        accepted = [post_event(session, url, body) for body in burst()]
        wait_for(lambda: health(url)["itsm"].get("failed_probes", 0) >= 3, "a while down")
        paused = health(url)
        if outage == "503":
            requests.delete(control, timeout=5).raise_for_status()
        else:
            proxy.resume()
        wait_for(lambda: health(url)["events"]["done"] == EVENTS, "the backlog drained")
        assert health(url)["itsm"]["state"] == "closed"
        figures = {
            "paused": metric(url, "smpm_events_paused_total", endpoint="events"),
            "retried": metric(url, "smpm_events_retried_total", endpoint="events"),
            "failed probes": metric(url, "smpm_itsm_probes_total", result="failed"),
        }
    assert paused["itsm"]["state"] == "open" and paused["events"]["dead"] == 0

    engine = open_engine(database)
    try:
        assert len(set(accepted)) == EVENTS
        assert counts(engine) == {"pending": 0, "processing": 0, "done": EVENTS, "dead": 0}
        done = listing(engine, ["done"], 10_000)
        assert {r["id"] for r in done} == set(accepted)  # accepted = stored = decided
        assert Counter(r["attempts"] for r in done) == {1: EVENTS}  # none spent on the outage
    finally:
        engine.dispose()
    with open_for(platform, fresh) as itsm:
        found = itsm.find(IncidentRequest, Field("event_key").startswith("outage/"))
        keys = Counter(i.event_key for i in found)
    assert keys == dict.fromkeys(CONDITIONS, 1), "one incident per condition"
    assert figures["paused"] >= 1 and figures["failed probes"] >= 3
    assert figures["retried"] == 0
