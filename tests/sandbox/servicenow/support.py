"""A plain `requests` client for the sandbox's ServiceNow face, and the recorded bodies.

Deliberately naive (no retries, no mapping, no renderer): the tests check the sandbox's answers
against the reference and the recorded bodies, never against our connector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "servicenow"
TIMEOUT = 10
SYS_ID = r"^[0-9a-f]{32}$"


def recorded(name: str) -> Any:
    """A recorded Change Management API body from tests/fixtures/servicenow/."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class SN:
    """Just enough of the Table API to drive the sandbox from a test."""

    def __init__(
        self, base_url: str, user: str = "Allen", password: str = "password", version: str = ""
    ) -> None:
        self.base_url = base_url
        self.api = f"{base_url}/api/now" + (f"/{version}" if version else "")
        self.http = requests.Session()
        self.http.auth = (user, password)
        self.http.headers.update({"Accept": "application/json"})

    def url(self, table: str, sys_id: str | None = None) -> str:
        url = f"{self.api}/table/{table}"
        return url if sys_id is None else f"{url}/{sys_id}"

    def list(self, table: str, **params: Any) -> requests.Response:
        return self.http.get(self.url(table), params=params, timeout=TIMEOUT)

    def rows(self, table: str, **params: Any) -> list[dict[str, Any]]:
        answer = self.list(table, **params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["result"])

    def get(self, table: str, sys_id: str, **params: Any) -> requests.Response:
        return self.http.get(self.url(table, sys_id), params=params, timeout=TIMEOUT)

    def record(self, table: str, sys_id: str, **params: Any) -> dict[str, Any]:
        answer = self.get(table, sys_id, **params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["result"])

    def create(self, table: str, body: Any, **params: Any) -> requests.Response:
        return self.http.post(self.url(table), params=params, json=body, timeout=TIMEOUT)

    def new(self, table: str, **values: Any) -> dict[str, Any]:
        answer = self.create(table, values)
        assert answer.status_code == 201, answer.text
        return dict(answer.json()["result"])

    def patch(self, table: str, sys_id: str, body: Any, **params: Any) -> requests.Response:
        return self.http.patch(self.url(table, sys_id), params=params, json=body, timeout=TIMEOUT)

    def put(self, table: str, sys_id: str, body: Any, **params: Any) -> requests.Response:
        return self.http.put(self.url(table, sys_id), params=params, json=body, timeout=TIMEOUT)

    def delete(self, table: str, sys_id: str) -> requests.Response:
        return self.http.delete(self.url(table, sys_id), timeout=TIMEOUT)

    def one(self, table: str, query: str, **params: Any) -> dict[str, Any]:
        found = self.rows(table, sysparm_query=query, **params)
        assert len(found) == 1, found
        return found[0]

    def sys_id(self, table: str, query: str) -> str:
        return str(self.one(table, query, sysparm_fields="sys_id")["sys_id"])
