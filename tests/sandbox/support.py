"""Test helpers: a plain `requests` AR client, a hand-moved clock, the recorded bodies.

The client here is deliberately naive (no retries, no mapping, no renderer): the tests check the
sandbox's answers against the reference and the recorded bodies, not against our connector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "remedy"
TIMEOUT = 10


def recorded(name: str) -> Any:
    """A recorded real response body from tests/fixtures/remedy/."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class FakeClock:
    """A clock the test moves by hand (no sleeping)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AR:
    """Just enough of the AR REST API to drive the sandbox from a test."""

    def __init__(self, base_url: str, user: str = "Allen", password: str = "password") -> None:
        self.base_url = base_url
        self.http = requests.Session()
        answer = self.http.post(
            f"{base_url}/api/jwt/login",
            data={"username": user, "password": password},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.text
        self.http.headers["Authorization"] = f"AR-JWT {self.token}"

    def url(self, form: str, entry_id: str | None = None) -> str:
        url = f"{self.base_url}/api/arsys/v1/entry/{quote(form, safe=':')}"
        return url if entry_id is None else f"{url}/{quote(entry_id, safe='')}"

    def list(self, form: str, **params: Any) -> requests.Response:
        return self.http.get(self.url(form), params=params, timeout=TIMEOUT)

    def entries(self, form: str, **params: Any) -> list[dict[str, Any]]:
        answer = self.list(form, **params)
        assert answer.status_code == 200, answer.text
        return [e["values"] for e in answer.json()["entries"]]

    def get(self, form: str, entry_id: str, **params: Any) -> requests.Response:
        return self.http.get(self.url(form, entry_id), params=params, timeout=TIMEOUT)

    def create(
        self, form: str, values: dict[str, Any], fields: str | None = None
    ) -> requests.Response:
        params = {"fields": fields} if fields is not None else None
        return self.http.post(
            self.url(form), params=params, json={"values": values}, timeout=TIMEOUT
        )

    def update(self, form: str, entry_id: str, values: dict[str, Any]) -> requests.Response:
        return self.http.put(self.url(form, entry_id), json={"values": values}, timeout=TIMEOUT)

    def delete(self, form: str, entry_id: str) -> requests.Response:
        return self.http.delete(self.url(form, entry_id), timeout=TIMEOUT)

    def incident(self, number: str) -> dict[str, Any]:
        found = self.entries("HPD:IncidentInterface", q=f"'Incident Number' = \"{number}\"")
        assert len(found) == 1, found
        return found[0]

    def new_incident(self, **values: Any) -> str:
        """File an incident through the create form; returns its Incident Number."""
        body = {
            "First_Name": "Rita",
            "Last_Name": "Ross",
            "Description": "Test incident",
            "Impact": "3-Moderate/Limited",
            "Urgency": "3-Medium",
            "Status": "New",
            "Reported Source": "Phone",
            "Service_Type": "User Service Restoration",
            "z1D_Action": "CREATE",
            **values,
        }
        answer = self.create("HPD:IncidentInterface_Create", body, "values(Incident Number)")
        assert answer.status_code == 201, answer.text
        return str(answer.json()["values"]["Incident Number"])
