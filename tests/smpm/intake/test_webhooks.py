"""The webhook endpoints: who may post, what is accepted, and that nothing is stored otherwise."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smpm.intake.store import listing
from tests.smpm.intake.conftest import NOW, SECRET, TOKEN, event_body, signed, stored


def test_a_signed_event_is_stored_before_the_202(client: TestClient, engine: Engine) -> None:
    """202 carries the id of a row that is already committed."""
    answer = client.post("/hooks/events", **signed(event_body()))
    assert answer.status_code == 202
    event_id = answer.json()["id"]
    rows = listing(engine, ["pending"], 10)
    assert [r["id"] for r in rows] == [event_id]
    assert rows[0]["subject"] == "zabbix/app-bank-02/cpu/cpu0/cpu.utilisation"


REFUSED = [
    ("no credentials", {}, "no X-Smpm-Signature header"),
    ("wrong secret", signed(event_body(), secret="guess")["headers"], "signature does not match"),
    ("replayed an hour later", signed(event_body(), at=NOW - 3600)["headers"], "more than 300 s"),
    ("from the future", signed(event_body(), at=NOW + 3600)["headers"], "more than 300 s"),
    ("malformed header", {"X-Smpm-Signature": "sha256=abc"}, "must read t=<unix seconds>"),
    ("wrong bearer token", {"Authorization": "Bearer nope"}, "bearer token is not valid"),
]


@pytest.mark.parametrize(
    ("headers", "detail"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_bad_credentials_get_401_and_nothing_is_stored(
    client: TestClient, engine: Engine, headers: dict, detail: str
) -> None:
    """Missing or wrong credentials: 401 naming the problem; the store stays empty."""
    raw = json.dumps(event_body()).encode()
    answer = client.post("/hooks/events", content=raw, headers=headers)
    assert answer.status_code == 401
    assert detail in answer.json()["error"]
    assert stored(engine) == 0


def test_a_signature_covers_the_body(client: TestClient, engine: Engine) -> None:
    """A valid signature moved onto another body is refused."""
    good = signed(event_body())
    other = json.dumps(event_body(message="CPU at 12%")).encode()
    answer = client.post("/hooks/events", content=other, headers=good["headers"])
    assert answer.status_code == 401
    assert stored(engine) == 0


def test_a_rotated_previous_secret_still_verifies(engine: Engine) -> None:
    """Senders move to a new secret over time; the old one is accepted while configured."""
    from pydantic import SecretStr

    from smpm.intake.auth import HookAuth, check, sign

    auth = HookAuth(methods=["hmac"], secret=SecretStr("new"), previous_secret=SecretStr(SECRET))
    check(auth, {"x-smpm-signature": sign(SECRET, NOW, b"{}")}, b"{}", lambda: NOW, 300)


def test_bearer_token_is_accepted_where_configured(client: TestClient, engine: Engine) -> None:
    answer = client.post(
        "/hooks/events", json=event_body(), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 202


def test_basic_auth_for_remedy(client: TestClient, engine: Engine) -> None:
    """Remedy's webhook can only send HTTP Basic; that endpoint accepts it, with the right pair."""
    good = base64.b64encode(b"remedy-hook:pa55").decode()
    bad = base64.b64encode(b"remedy-hook:guess").decode()
    body = {"record": "INC000000000001", "kind": "incident", "operation": "create"}
    assert (
        client.post(
            "/hooks/remedy", json=body, headers={"Authorization": f"Basic {bad}"}
        ).status_code
        == 401
    )
    answer = client.post("/hooks/remedy", json=body, headers={"Authorization": f"Basic {good}"})
    assert answer.status_code == 202
    assert answer.headers.get("WWW-Authenticate") is None


def test_an_endpoint_not_configured_refuses_everyone(client: TestClient, engine: Engine) -> None:
    answer = client.post("/hooks/servicenow", json={"record": "INC1"})
    assert answer.status_code == 401
    assert "not enabled" in answer.json()["error"]
    assert stored(engine) == 0


def test_too_large_is_413_before_anything_else(client: TestClient, engine: Engine) -> None:
    """A declared length over max_body_bytes (4 KiB here): 413 before the credentials are even
    looked at; a body that grows past it while it is read (the credentials accepted): 413 too.
    Nothing stored."""
    big = json.dumps(event_body(message="x" * 5000)).encode()
    assert client.post("/hooks/events", content=big).status_code == 413
    headers = {"Content-Length": "10", "Authorization": f"Bearer {TOKEN}"}
    answer = client.post("/hooks/events", content=big, headers=headers)
    assert answer.status_code == 413
    assert stored(engine) == 0


def test_not_json_is_400(client: TestClient, engine: Engine) -> None:
    raw = b"<event>cpu</event>"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    answer = client.post("/hooks/events", content=raw, headers=headers)
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]
    assert stored(engine) == 0


def test_schema_errors_are_422_naming_every_field(client: TestClient, engine: Engine) -> None:
    """Each field at fault is listed with its problem; nothing is stored."""
    body = event_body(severity="apocalyptic", time="yesterday", source=None)
    answer = client.post("/hooks/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 422
    fields = {f["field"] for f in answer.json()["fields"]}
    assert fields == {"severity", "time", "source"}
    assert stored(engine) == 0


def test_a_reading_needs_value_and_threshold(client: TestClient, engine: Engine) -> None:
    body = event_body(threshold=None)
    answer = client.post("/hooks/events", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 422
    assert "value and threshold go together" in answer.json()["fields"][0]["problem"]


def test_a_redelivery_gets_the_same_id_and_is_stored_once(
    client: TestClient, engine: Engine
) -> None:
    """Same content (with the same delivery id, when one is sent): the stored event's id,
    duplicate=true. The delivery id is not signed, so other content under the same id is
    another event, stored."""
    first = client.post("/hooks/events", **signed(event_body())).json()
    again = client.post("/hooks/events", **signed(event_body())).json()
    assert again == {"id": first["id"], "ids": [first["id"]], "duplicate": True}
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Smpm-Delivery": "d-42"}
    one = client.post("/hooks/events", json=event_body(message="a"), headers=headers).json()
    redelivered = client.post("/hooks/events", json=event_body(message="a"), headers=headers)
    assert redelivered.json() == {"id": one["id"], "ids": [one["id"]], "duplicate": True}
    two = client.post("/hooks/events", json=event_body(message="b"), headers=headers).json()
    assert two["id"] != one["id"] and two["duplicate"] is False
    assert stored(engine) == 3


ALERTS = {
    "version": "4",
    "groupKey": '{}:{alertname="DiskFull"}',
    "status": "firing",
    "receiver": "smpm",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "san-array-01", "severity": "critical"},
            "annotations": {"summary": "Disk 95% full", "value": "95", "threshold": "90"},
            "startsAt": "2026-11-25T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "a1b2c3",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "NodeDown", "instance": "web-bank-01"},
            "annotations": {"summary": "web-bank-01 back"},
            "startsAt": "2026-11-25T09:00:00Z",
            "endsAt": "2026-11-25T09:30:00Z",
            "fingerprint": "d4e5f6",
        },
    ],
}


def test_alertmanager_alerts_become_events(client: TestClient, engine: Engine) -> None:
    """Alertmanager v4: one stored event per alert; resolved alerts clear their condition."""
    answer = client.post(
        "/hooks/alertmanager", json=ALERTS, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 202
    assert len(answer.json()["ids"]) == 2
    rows = {r["subject"]: r for r in listing(engine, ["pending"], 10)}
    assert set(rows) == {"a1b2c3", "d4e5f6"}


def test_an_alert_without_a_fingerprint_is_keyed_by_its_labels(
    client: TestClient, engine: Engine
) -> None:
    """Same labels in any order, same condition (repeat counting); other labels, another one."""
    body = json.loads(json.dumps(ALERTS))
    first, second = body["alerts"]
    del first["fingerprint"], second["fingerprint"]
    second["status"] = "firing"
    second["labels"] = dict(reversed(list(first["labels"].items())))
    answer = client.post(
        "/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 202
    subjects = [r["subject"] for r in listing(engine, ["pending"], 10)]
    assert len(subjects) == 2 and len(set(subjects)) == 1
    assert len(subjects[0]) == 32


def test_alertmanager_alert_without_a_host_is_422(client: TestClient, engine: Engine) -> None:
    body = json.loads(json.dumps(ALERTS))
    body["alerts"][0]["labels"] = {"alertname": "Mystery"}
    answer = client.post(
        "/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "alerts.0.labels"
    assert stored(engine) == 0


def test_health_and_metrics(client: TestClient, engine: Engine) -> None:
    """The queue depth and the rejection reasons are visible to Prometheus."""
    client.post("/hooks/events", **signed(event_body()))
    client.post("/hooks/events", json=event_body())
    assert client.get("/healthz").json() == {
        "status": "ok",
        "events": {"pending": 1, "processing": 0, "done": 0, "dead": 0},
    }
    text = client.get("/metrics").text
    assert 'smpm_events_received_total{endpoint="events"} 1.0' in text
    assert 'smpm_events_rejected_total{endpoint="events",reason="missing"} 1.0' in text
    assert 'smpm_intake_events{status="pending"} 1.0' in text


def test_other_paths_and_methods_are_answered_by_the_framework(
    client: TestClient, engine: Engine
) -> None:
    """Only a POST to a known hook takes the short path; an unknown hook is a 404 naming the
    known ones, a GET on a hook a 405, and neither stores anything."""
    unknown = client.post("/hooks/nagios", **signed(event_body()))
    assert unknown.status_code == 404
    assert "known: events, alertmanager" in unknown.json()["error"]
    assert client.get("/hooks/events").status_code == 405
    assert stored(engine) == 0
