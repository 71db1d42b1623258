"""Latency, injected faults and request statistics, over real HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from sandbox import Sandbox
from sandbox.control import Control
from tests.sandbox.support import AR, TIMEOUT


def test_injected_status_answers_the_next_n_requests(faulty: Sandbox) -> None:
    """`inject(503, count=2)`: two 503s with an AR error body, then normal answers."""
    client = AR(faulty.base_url)
    faulty.inject(503, count=2)
    first, second, third = (client.list("CTM:People") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()[0]["messageType"] == "ERROR"
    assert first.json()[0]["messageNumber"] == 503


def test_rate_limit_with_retry_after(faulty: Sandbox) -> None:
    """A 429 fault carries the Retry-After header it was given."""
    client = AR(faulty.base_url)
    faulty.inject(429, retry_after=2)
    answer = client.list("CTM:People")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "2")


def test_faults_match_method_and_path_prefix(faulty: Sandbox) -> None:
    """A fault limited to POSTs under a form leaves other requests alone."""
    client = AR(faulty.base_url)
    faulty.inject(500, method="POST", path_prefix="/api/arsys/v1/entry/COM:Company")
    assert client.list("COM:Company").status_code == 200
    assert client.create("CTM:People", {"First Name": "A", "Last Name": "B"}).status_code == 201
    assert client.create("COM:Company", {"Company": "X"}).status_code == 500
    assert client.create("COM:Company", {"Company": "X"}).status_code == 201


def test_connection_reset(faulty: Sandbox) -> None:
    """`inject_reset`: the connection drops without an answer, and the next request works."""
    client = AR(faulty.base_url)
    faulty.inject_reset(count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(client.url("CTM:People"), headers=client.http.headers, timeout=TIMEOUT)
    assert client.list("CTM:People").status_code == 200
    assert faulty.stats()["by_status"]["reset"] == 1


def test_delay_lets_client_timeouts_fire(faulty: Sandbox) -> None:
    """`inject_delay`: a client with a shorter timeout gives up; the next request is prompt."""
    client = AR(faulty.base_url)
    faulty.inject_delay(2.0, count=1)
    with pytest.raises(requests.ReadTimeout):
        requests.get(client.url("CTM:People"), headers=client.http.headers, timeout=0.3)
    started = time.monotonic()
    assert client.list("CTM:People").status_code == 200
    assert time.monotonic() - started < 1.0


def test_latency_overlaps_across_requests(faulty: Sandbox) -> None:
    """Added latency is an async wait: eight concurrent requests take about one latency."""
    client = AR(faulty.base_url)
    faulty.set_latency(400)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    requests.get(
                        client.url("CTM:People"), headers=client.http.headers, timeout=TIMEOUT
                    ).status_code
                ),
                range(8),
            )
        )
    elapsed = time.monotonic() - started
    assert codes == [200] * 8
    assert 0.4 <= elapsed < 1.6


def test_stats_count_calls_by_route_and_status(faulty: Sandbox) -> None:
    """Stats count requests per method and form, and per status; they can be reset."""
    client = AR(faulty.base_url)
    faulty.reset_stats()
    client.list("CTM:People")
    client.list("CTM:People")
    client.get("CTM:People", "missing")
    stats = faulty.stats()
    assert stats["requests"] == 3
    assert stats["by_route"] == {"GET /api/arsys/v1/entry/CTM:People": 3}
    assert stats["by_status"] == {"200": 2, "404": 1}
    assert [r["status"] for r in stats["recent"]] == [200, 200, 404]
    faulty.reset_stats()
    assert faulty.stats()["requests"] == 0


def test_control_endpoints(faulty: Sandbox) -> None:
    """The same controls over HTTP under /__sandbox/, which is never faulted or counted."""
    base = f"{faulty.base_url}/__sandbox"
    client = AR(faulty.base_url)
    assert requests.get(f"{base}/health", timeout=TIMEOUT).json() == {"status": "ok"}
    added = requests.post(
        f"{base}/faults", json={"status": 503, "count": 1, "retry_after": 1}, timeout=TIMEOUT
    )
    assert added.status_code == 201 and added.json()[0]["count"] == 1
    assert requests.get(f"{base}/stats", timeout=TIMEOUT).status_code == 200
    assert client.list("CTM:People").headers.get("Retry-After") == "1"
    assert requests.put(f"{base}/latency", json={"ms": 0}, timeout=TIMEOUT).json() == {"ms": 0}
    requests.post(f"{base}/faults", json={"kind": "reset", "count": 5}, timeout=TIMEOUT)
    assert requests.delete(f"{base}/faults", timeout=TIMEOUT).status_code == 204
    assert client.list("CTM:People").status_code == 200
    bad = requests.post(f"{base}/faults", json={"status": 42}, timeout=TIMEOUT)
    assert bad.status_code == 400 and bad.json()["error"].startswith("status:")
    made = requests.post(f"{base}/incidents", json={"count": 50}, timeout=TIMEOUT)
    assert made.status_code == 201 and made.json()["first"].startswith("INC")
    assert requests.delete(f"{base}/stats", timeout=TIMEOUT).status_code == 204
    assert faulty.stats()["by_route"] == {}


def test_faults_are_consumed_once_under_concurrency(faulty: Sandbox) -> None:
    """Concurrent requests consume a fault's count exactly."""
    client = AR(faulty.base_url)
    faulty.inject(503, count=5)
    with ThreadPoolExecutor(10) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    requests.get(
                        client.url("CTM:People"), headers=client.http.headers, timeout=TIMEOUT
                    ).status_code
                ),
                range(20),
            )
        )
    assert sorted(codes).count(503) == 5
    assert codes.count(200) == 15


def test_every_control_route_is_documented(faulty: Sandbox) -> None:
    """Each /__sandbox/ route and each control method of `Sandbox` appears in the README."""
    readme = (Path(__file__).resolve().parents[2] / "sandbox" / "README.md").read_text(
        encoding="utf-8"
    )
    control = Control(faulty.faults, faulty.tokens, faulty.generate_incidents)
    for route in control.routes():
        assert route.path in readme, route.path  # type: ignore[attr-defined]
    for method in (
        "set_latency",
        "inject",
        "inject_reset",
        "inject_delay",
        "expire_tokens",
        "stats",
        "reset_stats",
        "clear_faults",
        "generate_incidents",
    ):
        assert f"{method}(" in readme, method
