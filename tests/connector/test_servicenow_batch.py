"""Many updates and notes through the Batch API, one result per write [reference 1.8]."""

from __future__ import annotations

import base64
import json
from typing import Any

import responses

from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus
from connector.errors import NotFound, PermissionDenied, Unavailable
from connector.servicenow import RecordUpdate, ServiceNowConnector
from mappings.loader import PlatformMapping
from tests.connector.conftest import SN_URL, FakeClock, Sleeps, sn_options
from tests.connector.test_servicenow_records import body, listing, query

BATCH = f"{SN_URL}/api/now/v1/batch"
IDS = {f"INC{n}": f"{n:032x}" for n in range(1, 4)}


def encoded(data: Any) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def served(item_id: str, status: int, answer: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "status_code": status,
        "status_text": "OK",
        "body": encoded(answer),
        "headers": [],
        "execution_time": 8,
    }


def numbers(mocked: responses.RequestsMock) -> None:
    """The lookup of INC1..INC3, in pages of two."""
    rows = [{"sys_id": sys_id, "number": number} for number, sys_id in IDS.items()]
    listing(mocked, "incident", rows[:2], {"X-Total-Count": "3"})
    listing(mocked, "incident", rows[2:], {"X-Total-Count": "3"})


def writes() -> list[Any]:
    return [
        RecordUpdate(IncidentRequest, "INC1", {"status": IncidentStatus.RESOLVED}),
        WorkNote(parent_kind=RecordKind.INCIDENT, parent_id="INC2", text="checked"),
        RecordUpdate(IncidentRequest, "INC3", {"summary": "renamed"}),
    ]


def test_updates_and_notes_go_in_one_batch_request(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """One IN query for the numbers, one batch POST with base64 bodies; ids echoed as strings."""
    numbers(mocked)
    answer = {
        "batch_request_id": "1",
        "serviced_requests": [served(str(i), 200, {"result": {}}) for i in range(3)],
        "unserviced_requests": [],
    }
    mocked.post(BATCH, json=answer)

    assert sn.apply_batch(writes()) == [None, None, None]

    assert query(mocked.calls[0])["sysparm_query"] == "numberININC1,INC2,INC3^ORDERBYsys_id"
    sent = body(mocked.calls[2])
    assert sent["batch_request_id"] == "1"
    first, note, third = sent["rest_requests"]
    assert first["method"] == "PATCH"
    assert first["url"] == f"/api/now/table/incident/{IDS['INC1']}?sysparm_fields=sys_id"
    assert json.loads(base64.b64decode(first["body"])) == {"state": "6"}
    assert json.loads(base64.b64decode(note["body"])) == {"work_notes": "checked"}
    assert {"name": "Content-Type", "value": "application/json"} in third["headers"]
    assert len(mocked.calls) == 3


def test_each_write_gets_its_own_result(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A 403 item, an unknown number and a success side by side; nothing raised."""
    listing(mocked, "incident", [{"sys_id": IDS["INC1"], "number": "INC1"}])
    listing(mocked, "incident", [])  # INC404 asked for once more, on its own
    acl = {"error": {"message": "Operation Failed", "detail": "ACL Exception"}, "status": "failure"}
    answer = {
        "batch_request_id": "1",
        "serviced_requests": [served("0", 403, acl)],
        "unserviced_requests": [],
    }
    mocked.post(BATCH, json=answer)

    results = sn.apply_batch(
        [*writes()[:1], RecordUpdate(IncidentRequest, "INC404", {"summary": "x"})]
    )

    assert isinstance(results[0], PermissionDenied)
    assert "ACL Exception" in str(results[0])
    assert isinstance(results[1], NotFound)


def test_unserviced_requests_are_sent_again(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Items the instance had no time for go again, up to three more times [1.8, PySNC]."""
    numbers(mocked)
    mocked.post(
        BATCH,
        json={
            "batch_request_id": "1",
            "serviced_requests": [served("0", 200, {"result": {}})],
            "unserviced_requests": ["1", "2"],
        },
    )
    mocked.post(
        BATCH,
        json={
            "batch_request_id": "2",
            "serviced_requests": [served("1", 200, {"result": {}})],
            "unserviced_requests": ["2"],
        },
    )
    mocked.post(
        BATCH,
        json={"batch_request_id": "3", "serviced_requests": [], "unserviced_requests": ["2"]},
    )
    mocked.post(
        BATCH,
        json={"batch_request_id": "4", "serviced_requests": [], "unserviced_requests": ["2"]},
    )
    mocked.post(
        BATCH,
        json={"batch_request_id": "5", "serviced_requests": [], "unserviced_requests": ["2"]},
    )

    results = sn.apply_batch(writes())

    assert results[:2] == [None, None]
    assert isinstance(results[2], Unavailable)
    assert "not serviced after 4 attempts" in str(results[2])
    resent = [len(body(c)["rest_requests"]) for c in mocked.calls[2:]]
    assert resent == [3, 2, 1, 1]


def test_a_batch_answer_for_another_batch_is_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The batch_request_id must echo ours; otherwise every item reports the mismatch."""
    numbers(mocked)
    mocked.post(BATCH, json={"batch_request_id": "99", "serviced_requests": []})
    results = sn.apply_batch(writes())
    assert all("answer is for batch '99'" in str(r) for r in results)


def test_batches_are_cut_to_the_configured_size(
    mocked: responses.RequestsMock,
    servicenow_mapping: PlatformMapping,
    clock: FakeClock,
    sleeps: Sleeps,
) -> None:
    """batch_size=2: three writes take two batch requests."""
    sn = ServiceNowConnector(sn_options(sleeps, clock, batch_size=2), servicenow_mapping)
    numbers(mocked)
    ok = {"result": {}}
    mocked.post(
        BATCH,
        json={
            "batch_request_id": "1",
            "serviced_requests": [served("0", 200, ok), served("1", 200, ok)],
        },
    )
    mocked.post(BATCH, json={"batch_request_id": "2", "serviced_requests": [served("2", 200, ok)]})
    assert sn.apply_batch(writes()) == [None, None, None]
    assert [len(body(c)["rest_requests"]) for c in mocked.calls[2:]] == [2, 1]
    sn.close()
