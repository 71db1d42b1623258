"""Error answers of the ServiceNow face, and the restricted user's ACLs [reference 1.5, 2.9]."""

from __future__ import annotations

import pytest
import requests

from sandbox import Sandbox
from tests.sandbox.servicenow.support import SN, TIMEOUT

NO_RECORD = {
    "error": {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval",
    },
    "status": "failure",
}
MISSING = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "PUT", "DELETE"])
def test_unknown_table_is_400(sn: SN, method: str) -> None:
    """`Invalid table <name>` with detail null, whatever the method [1.5]."""
    url = sn.url("not_a_real_class", None if method == "POST" else MISSING)
    answer = sn.http.request(method, url, json={}, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {"message": "Invalid table not_a_real_class", "detail": None},
        "status": "failure",
    }


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_unknown_record_is_404(sn: SN, method: str) -> None:
    answer = sn.http.request(method, sn.url("incident", MISSING), json={}, timeout=TIMEOUT)
    assert answer.status_code == 404 and answer.json() == NO_RECORD


@pytest.mark.parametrize("body", [b"{not json", b'"a string"', b"[1, 2]"])
def test_unreadable_body_is_400(sn: SN, body: bytes) -> None:
    answer = sn.http.post(
        sn.url("incident"), data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "message": "Exception while reading request",
        "detail": "Verify Request body and Content-type headers. Not able to parse request",
    }


def test_only_the_first_record_of_a_list_is_inserted(sn: SN) -> None:
    """ "You cannot pass multiple records ... only the first record is processed" [1.1]."""
    answer = sn.create(
        "incident", [{"short_description": "first"}, {"short_description": "second"}]
    )
    assert answer.status_code == 201 and answer.json()["result"]["short_description"] == "first"


def test_unknown_paths_and_methods(sn: SN) -> None:
    """An unknown resource under /api/now is 400 [1.5, status UNCONFIRMED]; a method a route
    does not take is 405; both in the envelope."""
    answer = sn.http.get(f"{sn.base_url}/api/now/nothing/here", timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Requested URI does not represent any resource"
    wrong = sn.http.post(sn.url("incident", MISSING), json={}, timeout=TIMEOUT)
    assert wrong.status_code == 405 and wrong.json()["status"] == "failure"


@pytest.mark.parametrize(
    ("method", "operation"),
    [("POST", "Insert"), ("PATCH", "Update"), ("PUT", "Update"), ("DELETE", "Delete")],
)
def test_restricted_user_cannot_write(sn: SN, readonly: SN, method: str, operation: str) -> None:
    """Writes by the restricted user: 403 Operation Failed, ACL Exception ... Failed [1.5]."""
    target = sn.new("incident", short_description="acl target")["sys_id"]
    url = readonly.url("incident", None if method == "POST" else target)
    answer = readonly.http.request(method, url, json={"short_description": "x"}, timeout=TIMEOUT)
    assert answer.status_code == 403
    assert answer.json() == {
        "error": {
            "message": "Operation Failed",
            "detail": f"ACL Exception {operation} Failed due to security constraints",
        },
        "status": "failure",
    }
    assert sn.record("incident", target)["short_description"] == "acl target"


def test_restricted_user_reads_with_acls(sandbox: Sandbox, readonly: SN) -> None:
    """It may read incidents; a denied table answers 403 "Insufficient rights to query
    records"; sys_journal_field rows are hidden: 200 `[]`, the count still the query's [2.9]."""
    assert readonly.rows("incident", sysparm_limit=1)
    denied = readonly.list("kb_knowledge")
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "message": "Insufficient rights to query records",
        "detail": "Field(s) present in the query do not have permission to be read",
    }
    article = SN(sandbox.base_url).rows("kb_knowledge", sysparm_limit=1)[0]["sys_id"]
    assert readonly.get("kb_knowledge", article).json() == NO_RECORD
    journal = readonly.list("sys_journal_field")
    assert journal.json() == {"result": []} and int(journal.headers["X-Total-Count"]) > 0
    sandbox.servicenow.settings.denied_tables = ["incident"]
    try:
        assert readonly.list("incident").status_code == 403
        assert readonly.list("kb_knowledge").status_code == 200
    finally:
        sandbox.servicenow.settings.denied_tables = ["kb_knowledge"]


def test_settings_control_endpoint(sandbox: Sandbox) -> None:
    """GET/PUT /__sandbox/servicenow shows and changes settings; bad bodies are 400."""
    url = f"{sandbox.base_url}/__sandbox/servicenow"
    shown = requests.get(url, timeout=TIMEOUT).json()
    assert shown["readonly_users"] == ["itil.readonly"] and "client_secret" not in shown
    changed = requests.put(url, json={"rate_limit": 50}, timeout=TIMEOUT)
    assert changed.status_code == 200 and changed.json()["rate_limit"] == 50
    assert requests.put(url, json={"nope": 1}, timeout=TIMEOUT).status_code == 400
    requests.put(url, json={"rate_limit": 100}, timeout=TIMEOUT)
