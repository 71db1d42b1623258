"""The Batch API [1.8] and the Aggregate API [1.9]."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.sandbox.servicenow.support import SN, TIMEOUT


def encoded(body: Any) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode()


def decoded(item: dict[str, Any]) -> Any:
    raw = base64.b64decode(item["body"])
    return json.loads(raw) if raw else None


def test_batch_services_each_request(sn: SN) -> None:
    """batch_request_id echoed as a string (PySNC sends an int); every item answered with its
    own status, base64 body and headers unless excluded [1.8]."""
    headers = [{"name": "Content-Type", "value": "application/json"}]
    request = {
        "batch_request_id": 11,
        "rest_requests": [
            {
                "id": "1",
                "url": "/api/now/table/incident?sysparm_limit=1&sysparm_fields=number",
                "method": "GET",
                "headers": headers,
                "exclude_response_headers": True,
            },
            {
                "id": "2",
                "url": "/api/now/v2/table/incident",
                "method": "POST",
                "headers": headers,
                "body": encoded({"short_description": "from a batch"}),
            },
            {"id": "3", "url": "/api/now/table/incident/" + "0" * 32, "method": "GET"},
            {"id": "4", "url": "/api/now/table/nope", "method": "GET"},
        ],
    }
    answer = sn.http.post(f"{sn.base_url}/api/now/v1/batch", json=request, timeout=TIMEOUT)
    assert answer.status_code == 200
    body = answer.json()
    assert body["batch_request_id"] == "11" and body["unserviced_requests"] == []
    items = {item["id"]: item for item in body["serviced_requests"]}
    assert [items[i]["status_code"] for i in "1234"] == [200, 201, 404, 400]
    assert items["1"]["headers"] == [] and items["1"]["status_text"] == "OK"
    assert len(decoded(items["1"])["result"]) == 1
    created = decoded(items["2"])["result"]
    assert created["short_description"] == "from a batch" and created["sys_created_by"] == "Allen"
    names = {h["name"] for h in items["2"]["headers"]}
    assert {"Content-Type", "Location"} <= names
    assert decoded(items["3"])["error"]["message"] == "No Record found"
    assert set(items["2"]) == {
        "id",
        "body",
        "status_code",
        "status_text",
        "headers",
        "execution_time",
    }
    assert sn.record("incident", created["sys_id"])["short_description"] == "from a batch"


def test_batch_leaves_unusable_items_unserviced(sn: SN, readonly: SN) -> None:
    """Items without a url, nested batches and bad bodies go to unserviced_requests; the
    batch's user is each item's user (the restricted user gets its 403s inside)."""
    request = {
        "batch_request_id": "b",
        "rest_requests": [
            {"id": "x", "method": "GET"},
            {"id": "y", "url": "/api/now/v1/batch", "method": "POST"},
            {"id": "z", "url": "/api/now/table/incident", "method": "POST", "body": "!!"},
            {"id": "w", "url": "/api/now/table/incident", "method": "POST", "body": encoded({})},
        ],
    }
    answer = readonly.http.post(f"{sn.base_url}/api/now/v1/batch", json=request, timeout=TIMEOUT)
    body = answer.json()
    assert body["unserviced_requests"] == ["x", "y", "z"]
    assert body["serviced_requests"][0]["status_code"] == 403
    bad = sn.http.post(f"{sn.base_url}/api/now/v1/batch", data=b"{", timeout=TIMEOUT)
    assert bad.status_code == 400
    unauthenticated = SN(sn.base_url, "Allen", "wrong").http.post(
        f"{sn.base_url}/api/now/v1/batch", json=request, timeout=TIMEOUT
    )
    assert unauthenticated.status_code == 401


def test_aggregate_counts(sn: SN) -> None:
    """Ungrouped: an object with the count as a string; grouped: an array with
    groupby_fields [1.9]."""
    total = sn.list("incident", sysparm_limit=1).headers["X-Total-Count"]
    plain = sn.http.get(
        f"{sn.api}/stats/incident", params={"sysparm_count": "true"}, timeout=TIMEOUT
    )
    assert plain.json() == {"result": {"stats": {"count": total}}}
    grouped = sn.http.get(
        f"{sn.api}/v1/stats/incident",
        params={
            "sysparm_query": "number<=INC0010016",
            "sysparm_count": "true",
            "sysparm_avg_fields": "reassignment_count",
            "sysparm_max_fields": "priority",
            "sysparm_group_by": "state",
            "sysparm_order_by": "COUNT^DESC",
        },
        timeout=TIMEOUT,
    ).json()["result"]
    assert isinstance(grouped, list) and sum(int(g["stats"]["count"]) for g in grouped) == 16
    first = grouped[0]
    assert first["groupby_fields"][0]["field"] == "state"
    assert first["stats"]["avg"]["reassignment_count"] == "0.0000"
    assert all(isinstance(g["stats"]["max"]["priority"], str) for g in grouped)
    counts = [int(g["stats"]["count"]) for g in grouped]
    assert counts == sorted(counts, reverse=True)


def test_aggregate_display_values_and_having(sn: SN) -> None:
    shown = sn.http.get(
        f"{sn.api}/stats/incident",
        params={
            "sysparm_query": "number<=INC0010016",
            "sysparm_count": "true",
            "sysparm_group_by": "priority",
            "sysparm_having": "count^priority^>^3",
            "sysparm_display_value": "true",
        },
        timeout=TIMEOUT,
    ).json()["result"]
    assert shown and all(int(g["stats"]["count"]) > 3 for g in shown)
    assert {g["groupby_fields"][0]["value"] for g in shown} <= {
        "1 - Critical",
        "2 - High",
        "3 - Moderate",
        "4 - Low",
        "5 - Planning",
    }
    nothing = sn.http.get(f"{sn.api}/stats/incident", timeout=TIMEOUT).json()
    assert nothing == {"result": {"stats": {}}}
    assert sn.http.get(f"{sn.api}/stats/nope", timeout=TIMEOUT).status_code == 400
