"""The Batch API: `POST /api/now/v1/batch` [reference 1.8].

    {"batch_request_id": "1", "rest_requests": [{"id": "12", "url": "/api/now/table/incident",
      "method": "POST", "headers": [{"name", "value"}], "body": "<base64 JSON>",
      "exclude_response_headers": true}]}

Each sub-request runs through the same code as a real request, as the batch's user, and is
answered in `serviced_requests` with its own status (a 404 inside is still "serviced"), body
base64-encoded, `status_text`, `headers` (`[]` when excluded) and `execution_time` (ms).
`batch_request_id` is echoed as a string, as PySNC checks. Items past the per-item input limit
(5 MB, `glide.rest.batch.max.inputSize`), items without an id, url or method, nested batches, and
everything left once the batch has run for 30 s go to `unserviced_requests` by id.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.servicenow.calls import JSON_TYPE, Answer, Call
from sandbox.servicenow.errors import SNError, unreadable_body
from sandbox.servicenow.table_api import BATCH, TableApi

MAX_INPUT = 5 * 1024 * 1024
TIME_BUDGET = 30.0


class BatchApi:
    def __init__(self, api: TableApi) -> None:
        self.api = api
        api.extra["batch"] = self.handle

    def handle(self, call: Call, user: str) -> Answer:
        if call.method != "POST":
            raise SNError(405, "Method not Supported", f"{call.method} is not supported on batch")
        try:
            request = json.loads(call.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise unreadable_body() from None
        items = request.get("rest_requests") if isinstance(request, dict) else None
        if not isinstance(items, list):
            raise unreadable_body()
        started = time.monotonic()
        serviced: list[dict[str, Any]] = []
        unserviced: list[str] = []
        for item in items:
            item_id = str(item.get("id", "")) if isinstance(item, dict) else ""
            late = time.monotonic() - started > TIME_BUDGET
            sub = None if late else self._call(item, call, user)
            if sub is None:
                unserviced.append(item_id)
                continue
            serviced.append(self._run(item_id, sub, bool(item.get("exclude_response_headers"))))
        body = {
            "batch_request_id": str(request.get("batch_request_id", "")),
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        }
        return Answer(200, body)

    def _call(self, item: Any, call: Call, user: str) -> Call | None:
        if not isinstance(item, dict) or not item.get("id") or not item.get("url"):
            return None
        url = urlsplit(str(item["url"]))
        if url.path.rstrip("/") == BATCH or not item.get("method"):
            return None
        try:
            body = base64.b64decode(item.get("body") or "", validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(body) > MAX_INPUT:
            return None
        headers = {
            str(h.get("name", "")).lower(): str(h.get("value", ""))
            for h in item.get("headers") or []
            if isinstance(h, dict)
        }
        return Call(
            method=str(item["method"]).upper(),
            path=url.path,
            items=parse_qsl(url.query, keep_blank_values=True),
            body=body,
            headers=headers,
            base_url=call.base_url,
            user=user,
        )

    def _run(self, item_id: str, sub: Call, exclude_headers: bool) -> dict[str, Any]:
        started = time.monotonic()
        answer = self.api.handle(sub)
        elapsed = int((time.monotonic() - started) * 1000)
        known = answer.status in HTTPStatus._value2member_map_
        headers = [] if exclude_headers else _headers(answer)
        return {
            "id": item_id,
            "body": base64.b64encode(answer.content()).decode(),
            "status_code": answer.status,
            "status_text": HTTPStatus(answer.status).phrase if known else "",
            "headers": headers,
            "execution_time": elapsed,
        }


def _headers(answer: Answer) -> list[dict[str, str]]:
    out = [{"name": k, "value": v} for k, v in answer.all_headers().items()]
    if answer.body is None and not any(h["name"] == "Content-Type" for h in out):
        out.append({"name": "Content-Type", "value": JSON_TYPE})
    return out
