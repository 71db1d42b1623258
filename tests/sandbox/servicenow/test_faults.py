"""Faults, latency and statistics on the ServiceNow routes [reference 1.5, 1.5.1]."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox import Sandbox
from tests.sandbox.servicenow.support import SN, TIMEOUT


def test_rate_limit_fault_answers_like_servicenow(faulty: Sandbox) -> None:
    """`inject(status=429, retry_after=2, path_prefix="/api/now")`: the documented body, with
    Retry-After and X-RateLimit-* headers; then normal answers again."""
    client = SN(faulty.base_url)
    faulty.inject(status=429, retry_after=2, path_prefix="/api/now")
    before = int(time.time())
    limited = client.list("sys_user")
    assert limited.status_code == 429
    assert limited.json() == {
        "error": {
            "message": "Rate limit exceeded",
            "detail": "Rate limit of 100 requests per hour for Table API exceeded",
        },
        "status": "failure",
    }
    headers = limited.headers
    assert headers["Retry-After"] == "2"
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("100", "0")
    assert before + 2 <= int(headers["X-RateLimit-Reset"]) <= before + 4
    assert headers["X-RateLimit-Rule"]
    assert client.list("sys_user").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_status_faults_use_the_envelope(faulty: Sandbox, status: int) -> None:
    """Other injected statuses on ServiceNow paths carry the error envelope, not an AR array."""
    faulty.inject(status=status, retry_after=1)
    answer = SN(faulty.base_url).list("incident")
    assert answer.status_code == status and answer.json()["status"] == "failure"
    assert answer.headers["Retry-After"] == "1" and "message" in answer.json()["error"]


def test_faults_match_servicenow_methods_and_paths(faulty: Sandbox) -> None:
    """A fault limited to PATCHes on one table leaves the others alone; the AR API keeps its
    own error shape."""
    client = SN(faulty.base_url)
    made = client.new("incident", short_description="fault target")
    faulty.inject(status=503, method="PATCH", path_prefix="/api/now/table/incident")
    assert client.list("incident").status_code == 200
    assert client.patch("incident", made["sys_id"], {"urgency": "1"}).status_code == 503
    assert client.patch("incident", made["sys_id"], {"urgency": "1"}).status_code == 200
    faulty.inject(status=503, path_prefix="/api/arsys")
    ar = requests.get(f"{faulty.base_url}/api/arsys/v1/entry/CTM:People", timeout=TIMEOUT)
    assert ar.status_code == 503 and ar.json()[0]["messageType"] == "ERROR"


def test_oauth_faults_and_resets(faulty: Sandbox) -> None:
    """The token endpoint can be faulted too; a reset drops the connection."""
    faulty.inject(status=503, path_prefix="/oauth_token.do")
    answer = requests.post(f"{faulty.base_url}/oauth_token.do", data={}, timeout=TIMEOUT)
    assert answer.status_code == 503 and answer.json()["status"] == "failure"
    faulty.inject_reset(path_prefix="/api/now")
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{faulty.base_url}/api/now/table/incident", auth=("Allen", "password"), timeout=TIMEOUT
        )


def test_stats_count_servicenow_requests(faulty: Sandbox) -> None:
    """Requests count per method and table (sys_id left out), and per status."""
    client = SN(faulty.base_url)
    faulty.reset_stats()
    made = client.new("incident", short_description="counted")
    client.get("incident", made["sys_id"])
    client.list("incident")
    SN(faulty.base_url, version="v2").list("incident")
    client.get("incident", "0" * 32)
    stats = faulty.stats()
    assert stats["by_route"] == {
        "POST /api/now/table/incident": 1,
        "GET /api/now/table/incident": 3,
        "GET /api/now/v2/table/incident": 1,
    }
    assert stats["by_status"] == {"201": 1, "200": 3, "404": 1}


def test_latency_applies(faulty: Sandbox) -> None:
    faulty.set_latency(200)
    started = time.monotonic()
    assert SN(faulty.base_url).list("sys_user", sysparm_limit=1).status_code == 200
    assert time.monotonic() - started >= 0.2


CANCELLED = "Transaction cancelled: maximum execution time exceeded"


@pytest.mark.parametrize(("status", "result"), [(200, True), (500, False)])
def test_a_cancelled_transaction_answers_like_the_platform(
    faulty: Sandbox, status: int, result: bool
) -> None:
    """`inject(200, message=CANCELLED)`: the transaction quota's answer [1.5], an empty
    `result` before the envelope when it comes with a 200; then normal answers again."""
    client = SN(faulty.base_url)
    faulty.inject(status, message=CANCELLED, path_prefix="/api/now/table/incident")
    answer = client.list("incident", sysparm_limit="1000")
    assert answer.status_code == status
    body = answer.json()
    assert body["status"] == "failure"
    assert body["error"] == {
        "message": CANCELLED,
        "detail": f"{CANCELLED}. Check logs for error trace.",
    }
    assert ("result" in body) is result
    assert "error" not in client.list("incident", sysparm_limit="10").json()
