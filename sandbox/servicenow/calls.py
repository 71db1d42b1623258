"""A request to the ServiceNow face and its answer, apart from the HTTP server, so the Batch
API can run its sub-requests through exactly the same code as real requests [1.8]."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.servicenow.errors import SNError, unreadable_body

JSON_TYPE = "application/json;charset=UTF-8"  # as recorded [1.3]


@dataclass
class Call:
    method: str
    path: str  # "/api/now/v2/table/incident"
    items: list[tuple[str, str]]  # query parameters, in order
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    base_url: str = ""  # "http://127.0.0.1:8008"
    user: str | None = None  # set for batch sub-requests: already authenticated

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-able, or None for no body
    headers: dict[str, str] = field(default_factory=dict)

    def content(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()

    def all_headers(self) -> dict[str, str]:
        extra = {"Content-Type": JSON_TYPE} if self.body is not None else {}
        return {**extra, **self.headers}


def failure(error: SNError) -> Answer:
    return Answer(error.status, error.body(), dict(error.headers))


def json_body(call: Call) -> dict[str, Any]:
    """The record in a POST/PUT/PATCH body: a JSON object, or the first of a list (the rest are
    ignored [1.1]); an empty body is an empty record; anything else is 400 [1.5]."""
    if not call.body.strip():
        return {}
    try:
        parsed = json.loads(call.body)
    except (ValueError, UnicodeDecodeError):
        raise unreadable_body() from None
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        raise unreadable_body()
    return parsed
