"""Error answers: AR error arrays with the documented numbers and statuses [reference 2.7]."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.sandbox.support import AR, TIMEOUT

KEYS = {"messageType", "messageText", "messageAppendedText", "messageNumber"}


def only_message(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    (message,) = answer.json()
    assert message.keys() == KEYS
    assert message["messageType"] == "ERROR"
    return dict(message)


@pytest.mark.parametrize(
    "call",
    [
        lambda ar: ar.list("NN:Nope"),
        lambda ar: ar.get("NN:Nope", "000000000000001"),
        lambda ar: ar.create("NN:Nope", {"a": 1}),
        lambda ar: ar.update("NN:Nope", "1", {"a": 1}),
        lambda ar: ar.delete("NN:Nope", "1"),
    ],
    ids=["list", "get", "create", "update", "delete"],
)
def test_unknown_form_is_303(ar: AR, call: Any) -> None:
    """Every operation on an unknown form is 404 + 303 naming the form."""
    assert only_message(call(ar), 404) == {
        "messageType": "ERROR",
        "messageText": "Form does not exist on server",
        "messageAppendedText": "NN:Nope",
        "messageNumber": 303,
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda ar: ar.get("HPD:IncidentInterface", "INC000000009999|INC000000009999"),
        lambda ar: ar.get("HPD:IncidentInterface", "INC1|INC2"),
        lambda ar: ar.update("CTM:People", "PPL000000009999", {"VIP": "Yes"}),
        lambda ar: ar.delete("COM:Company", "nope"),
    ],
    ids=["get", "mismatched-join-id", "update", "delete"],
)
def test_unknown_entry_is_302(ar: AR, call: Any) -> None:
    """An entry that does not exist is 404 + 302 "Entry does not exist in database"."""
    message = only_message(call(ar), 404)
    assert (message["messageNumber"], message["messageText"]) == (
        302,
        "Entry does not exist in database",
    )


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda ar: ar.list("CTM:People", fields="values(Person ID,Shoe Size)"), "Shoe Size"),
        (lambda ar: ar.list("CTM:People", sort="Shoe Size.desc"), "Shoe Size"),
        (lambda ar: ar.list("CTM:People", q="'Shoe Size' = 42"), "Shoe Size"),
        (lambda ar: ar.create("COM:Company", {"Company": "X", "Shoe Size": 42}), "Shoe Size"),
        (lambda ar: ar.list("CTM:People", q="'Status' = \"Enabled\""), "Status"),
    ],
    ids=["fields", "sort", "q", "body", "other-forms-field"],
)
def test_unknown_field_is_named(ar: AR, call: Any, named: str) -> None:
    """An unknown field anywhere in a request is 400 + 314 naming it and the form."""
    message = only_message(call(ar), 400)
    assert message["messageNumber"] == 314
    assert message["messageAppendedText"].startswith(f"{named} (form ")


@pytest.mark.parametrize(
    ("q", "position"),
    [
        ("'Profile Status' = ", 20),
        ("'Profile Status' = \"Enabled", 20),
        ("('Profile Status' = \"Enabled\"", 30),
        ('Profile Status = "Enabled"', 1),
    ],
)
def test_malformed_qualification_names_the_position(ar: AR, q: str, position: int) -> None:
    """A malformed `q` is 400 with the position of the fault."""
    message = only_message(ar.list("CTM:People", q=q), 400)
    assert message["messageAppendedText"].startswith(f"position {position}: ")


def test_bad_values_in_a_qualification(ar: AR) -> None:
    """Labels and dates in `q` are checked against the field: 306 naming it."""
    for q, field in (
        ("'Profile Status' = \"Happy\"", "Profile Status"),
        ("'Submit Date' > \"yesterday\"", "Submit Date"),
    ):
        message = only_message(ar.list("CTM:People", q=q), 400)
        assert (message["messageNumber"], message["messageAppendedText"].split(":")[0]) == (
            306,
            field,
        )
    like = only_message(ar.list("CTM:People", q="'VIP' LIKE \"Y%\""), 400)
    assert "LIKE applies to character fields" in like["messageAppendedText"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"values": 3}', b""])
def test_bad_body_is_400(ar: AR, body: bytes) -> None:
    """A body that is not `{"values": {...}}` JSON is 400 with an AR error array."""
    answer = ar.http.post(
        ar.url("COM:Company"),
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    message = only_message(answer, 400)
    assert message["messageText"] == "Request body is incorrect"


def test_bad_paging_parameters(ar: AR) -> None:
    """Non-numeric or negative offset and limit are 400."""
    for params in ({"limit": "ten"}, {"offset": "-1"}):
        only_message(ar.list("CTM:People", **params), 400)


def test_wrong_api_version_is_404(ar: AR) -> None:
    """Only v1 and v1.0 exist."""
    answer = ar.http.get(ar.base_url + "/api/arsys/v2/entry/CTM:People", timeout=TIMEOUT)
    assert answer.status_code == 404
