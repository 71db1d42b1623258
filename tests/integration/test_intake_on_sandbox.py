"""The webhook intake end to end on both sandbox faces, over real HTTP: what is accepted is
decided, what could never be decided is refused up front, and a replayed capture cannot
suppress a real event (issue 11, items 5 and 6).

Everything runs on one fixed clock (`START`, shortly after the events' own time), service and
sandbox ITSM alike, so nothing here depends on the day the tests run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.entities import IncidentRequest
from connector.enums import ReportedSource
from connector.filters import Field, Op
from connector.servicenow.encoded_query import UnsupportedQuery, comparison
from sandbox.server import Sandbox
from smpm.demo import DEMO_SETTINGS
from smpm.intake.auth import sign
from smpm.intake.service import Service, listening, running
from smpm.intake.store import counts, listing
from smpm.settings import load_settings
from tests.clocks import TestClock
from tests.integration.conftest import clocked_sandbox, open_for, platform_settings

pytestmark = pytest.mark.integration
SECRET = "whsec-integration-0123456789"
TOKEN = "integration-token"
START = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)


clock, fresh = clocked_sandbox(START)


@dataclass
class Served:
    service: Service
    http: httpx.Client

    def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return self.http.post(
            "/hooks/events",
            content=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", **headers},
        )


@pytest.fixture
def served(platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock) -> Iterator[Served]:
    demo = load_settings(DEMO_SETTINGS)
    settings = platform_settings(
        platform,
        fresh,
        tmp_path,
        hooks={"events": {"methods": ["hmac", "bearer"], "secret": SECRET, "token": TOKEN}},
        intake={"max_attempts": 2, "backoff_seconds": 5},
        incident=demo.incident.model_dump(),
        event={"handling": {"customer": "Maya"}},
    )
    with (
        running(settings, workers=0, clock=clock) as service,
        listening(service) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield Served(service, http)


def event(**fields: Any) -> dict[str, Any]:
    return {
        "source": "zabbix",
        "type": "availability",
        "severity": "critical",
        "message": "down",
        "time": "2026-11-25T10:00:00Z",
        **fields,
    }


def requests_keyed(platform: str, sandbox: Sandbox, key: str) -> list[IncidentRequest]:
    with open_for(platform, sandbox) as connector:
        where = Field("reported_source") == ReportedSource.SYSTEMS_MANAGEMENT
        return [i for i in connector.find(IncidentRequest, where) if i.event_key == key]


# -- item 5: no event is accepted that no worker could decide --------------------------------------
REFUSED = [
    ("node NULL", {"node": "NULL"}, "node"),
    ("ci NULL", {"ci": "NULL"}, "ci"),
    ("node javascript:", {"node": "javascript:alert(1)"}, "node"),
    ("ci javascript:", {"ci": "javascript:gs.log(1)"}, "ci"),
    ("message_key NULL", {"ci": "db-node-01", "message_key": "NULL"}, "message_key"),
    ("message_key javascript:", {"ci": "db-node-01", "message_key": "javascript:x"}, "message_key"),
    (
        "source javascript: (it begins the key)",
        {"ci": "db-node-01", "source": "javascript:x"},
        "source",
    ),
]


@pytest.mark.parametrize(("fields", "field"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_name_no_itsm_query_can_hold_is_refused_at_intake(
    served: Served, fields: dict[str, Any], field: str
) -> None:
    """An event whose CI or key ServiceNow's encoded queries cannot hold would be retried to
    death: it is 422 naming the field, on either face, and nothing is stored."""
    answer = served.post(event(**fields))
    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["fields"]] == [field]
    assert counts(served.service.engine) == {"pending": 0, "processing": 0, "done": 0, "dead": 0}


@pytest.mark.parametrize("value", [fields[field] for _, fields, field in REFUSED])
def test_what_intake_refuses_the_servicenow_renderer_refuses(value: str) -> None:
    """The intake's rule is the renderer's: each value refused at intake cannot be written in an
    encoded query."""
    with pytest.raises(UnsupportedQuery):
        comparison("cmdb_ci.name", Op.EQ, value)


DECIDED = [
    ("node null in lower case", {"node": "null"}),
    ("node NULL-01", {"node": "NULL-01"}),
    ("node javascript-runner", {"node": "javascript-runner"}),
    ("message_key javascript-errors", {"ci": "db-node-01", "message_key": "javascript-errors"}),
    ("message_key 'no javascript: here'", {"ci": "db-node-01", "message_key": "no javascript: x"}),
]


@pytest.mark.parametrize("fields", [d[1] for d in DECIDED], ids=[d[0] for d in DECIDED])
def test_names_beside_the_refused_ones_are_accepted_and_decided(
    served: Served, fields: dict[str, Any]
) -> None:
    """Accepted (202), then decided by Event Management P1 on the first attempt, on both faces:
    none is left pending or dead."""
    answer = served.post(event(**fields))
    assert answer.status_code == 202, answer.text
    served.service.drain()
    [row] = listing(served.service.engine, ["pending", "processing", "done", "dead"], 5)
    assert row["status"] == "done", row["last_error"]
    assert row["outcome"].startswith("[")


# -- item 6: a replayed capture cannot suppress a real event ---------------------------------------
def test_a_capture_replayed_under_the_next_delivery_id_does_not_suppress_the_real_event(
    platform: str, served: Served, fresh: Sandbox, clock: TestClock
) -> None:
    """X-Smpm-Delivery is not signed. A capture of the sender's request (delivery zbx-1001),
    replayed within the signature's tolerance under the sender's next delivery id (zbx-1002),
    is stored as what it is: a repeat of the captured event. The sender's real event under
    zbx-1002, an outage on san-array-01, is stored as new and registered as an incident
    request; the sender's own redelivery of it is still a duplicate."""
    stamp = int(clock.seconds())
    captured = json.dumps(event(ci="app-bank-02", severity="minor", message="slow")).encode()
    real = json.dumps(event(ci="san-array-01", message="san-array-01 unreachable")).encode()

    def send(body: bytes, delivery: str) -> dict[str, Any]:
        headers = {"X-Smpm-Signature": sign(SECRET, stamp, body), "X-Smpm-Delivery": delivery}
        answer = served.http.post("/hooks/events", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    first = send(captured, "zbx-1001")
    replay = send(captured, "zbx-1002")  # the attacker's, ahead of the sender
    outage = send(real, "zbx-1002")
    redelivered = send(real, "zbx-1002")
    assert replay["id"] != first["id"]
    assert outage["duplicate"] is False and outage["id"] not in (first["id"], replay["id"])
    assert redelivered == {**outage, "duplicate": True}
    assert send(captured, "zbx-1001") == {**first, "duplicate": True}

    served.service.drain()
    assert counts(served.service.engine)["done"] == 3
    [registered] = requests_keyed(platform, fresh, "zabbix/san-array-01/availability//")
    assert registered.ci == "san-array-01"
    assert len(requests_keyed(platform, fresh, "zabbix/app-bank-02/availability//")) <= 1
