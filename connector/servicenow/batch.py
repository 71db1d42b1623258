"""The Batch API: many small writes in one round trip [reference 1.8].

`POST /api/now/v1/batch` carries `rest_requests`, each with an id, a relative URL, a method,
name/value headers and a base64 body; the answer lists `serviced_requests` (each with its own
status code and base64 body) and `unserviced_requests` (ids the instance had no time or room
for, re-sent up to three times as PySNC does). `batch_request_id` is echoed as a string.
Each item's answer is turned back into a `requests.Response`, so the one error translation of
`connector.servicenow.errors` applies to it unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from requests.structures import CaseInsensitiveDict

from connector.base import BatchWrite
from connector.codec import KindCodec
from connector.entities import Entity, RecordKind, WorkNote
from connector.errors import ConfigurationError, ConnectorError, InvalidResponse, Unavailable
from connector.servicenow.errors import is_failure, translate_error
from connector.servicenow.layouts import LayoutHost, NoteLayout, Write

BATCH_PATH = "/api/now/v1/batch"  # only a versioned URL is documented [1.8]
RESENDS = 3  # unserviced requests are sent again up to three times (PySNC)
HEADERS = (
    {"name": "Content-Type", "value": "application/json"},
    {"name": "Accept", "value": "application/json"},
)


@dataclass(frozen=True)
class BatchItem:
    """One request inside a batch: its id, and where and what it writes."""

    id: str
    method: str
    url: str
    body: Mapping[str, Any] | None = None


def request_body(batch_id: str, items: Sequence[BatchItem]) -> dict[str, Any]:
    """The JSON of one batch request [1.8]."""
    requests_out = []
    for item in items:
        entry: dict[str, Any] = {
            "id": item.id,
            "method": item.method,
            "url": item.url,
            "headers": list(HEADERS),
            "exclude_response_headers": True,
        }
        if item.body is not None:
            raw = json.dumps(dict(item.body)).encode()
            entry["body"] = base64.b64encode(raw).decode("ascii")
        requests_out.append(entry)
    return {"batch_request_id": batch_id, "rest_requests": requests_out}


def parse_answer(
    batch_id: str, body: Any, base_url: str
) -> tuple[dict[str, requests.Response], list[str]]:
    """(item id -> its answer as a Response, ids left unserviced) from a batch answer."""
    where = f"ServiceNow batch {batch_id}"
    if not isinstance(body, Mapping):
        raise InvalidResponse(f"{where}: the answer is not a JSON object")
    if str(body.get("batch_request_id")) != batch_id:
        raise InvalidResponse(f"{where}: the answer is for batch {body.get('batch_request_id')!r}")
    serviced = body.get("serviced_requests") or []
    unserviced = body.get("unserviced_requests") or []
    if not isinstance(serviced, list) or not isinstance(unserviced, list):
        raise InvalidResponse(f"{where}: serviced/unserviced_requests are not lists")
    answers = {}
    for entry in serviced:
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise InvalidResponse(f"{where}: a serviced request has no id")
        answers[str(entry["id"])] = item_response(entry, base_url, where)
    return answers, [str(_id(u)) for u in unserviced]


def _id(entry: Any) -> Any:
    return entry.get("id") if isinstance(entry, Mapping) else entry


def item_response(entry: Mapping[str, Any], base_url: str, where: str) -> requests.Response:
    """One serviced request as a Response (status, decoded body, headers)."""
    response = requests.Response()
    try:
        response.status_code = int(entry.get("status_code", 0))
        response._content = base64.b64decode(entry.get("body") or "", validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise InvalidResponse(
            f"{where}: request {entry.get('id')}: unreadable status or body"
        ) from None
    headers = entry.get("headers") or []
    response.headers = CaseInsensitiveDict(
        {str(h.get("name")): str(h.get("value")) for h in headers if isinstance(h, Mapping)}
    )
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    response.url = base_url + BATCH_PATH
    response.encoding = "utf-8"
    return response


class BatchOptions(Protocol):
    """The one option the runner reads: how many writes go in one batch request."""

    @property
    def batch_size(self) -> int: ...


class BatchHost(LayoutHost, Protocol):
    """What the batch runner uses of `ServiceNowConnector` beside the layouts' part: its
    batch size, how it prepares a write, and its calls; typed so, this module need not import
    the connector."""

    base_url: str
    batch_ids: Iterator[int]

    @property
    def options(self) -> BatchOptions: ...

    def prepare_write(
        self, model: type[Entity], record: Entity | str, changes: Mapping[str, Any]
    ) -> Write: ...

    def table(self, codec: KindCodec) -> str: ...

    def call(self, method: str, url: str, doing: str, **kwargs: Any) -> requests.Response: ...

    def json(self, response: requests.Response, doing: str) -> Any: ...


class BatchRunner:
    """`ServiceNowConnector.apply_batch`: prepare every write, then send them in chunks."""

    def __init__(self, connector: BatchHost) -> None:
        self.connector = connector

    def apply(self, writes: Sequence[BatchWrite]) -> list[Exception | None]:
        self._prefetch_keys(writes)
        results: list[Exception | None] = [None] * len(writes)
        items: list[BatchItem] = []
        for index, write in enumerate(writes):
            try:
                prepared = self._prepare(write)
            except (ConnectorError, ConfigurationError, ValueError) as exc:
                results[index] = exc
                continue
            if prepared.body:
                items.append(
                    BatchItem(str(index), prepared.method, _relative(prepared), prepared.body)
                )
        size = max(1, self.connector.options.batch_size)
        for start in range(0, len(items), size):
            self._send(items[start : start + size], results)
        return results

    def _prepare(self, write: BatchWrite) -> Write:
        if isinstance(write, WorkNote):
            return NoteLayout(self.connector, write.parent_kind).encode(write)
        return self.connector.prepare_write(write.model, write.record, write.changes)

    def _prefetch_keys(self, writes: Sequence[BatchWrite]) -> None:
        """The sys_ids of every record named by number, one IN query per table."""
        c = self.connector
        wanted: dict[tuple[str, str], list[str]] = {}
        for write in writes:
            try:
                if isinstance(write, WorkNote):
                    kind, number = write.parent_kind, write.parent_id
                    table = c.codec(RecordKind.WORK_NOTE).spec.parents[kind.value].form
                else:
                    record = write.record
                    if isinstance(record, Entity) and record.platform_id:
                        continue
                    kind = write.model.kind
                    number = str(record.id if isinstance(record, Entity) else record)
                    table = c.table(c.codec(kind))
                column = c.codec(kind).platform_field("id")
            except (ConfigurationError, KeyError):
                continue  # reported by _prepare for that write
            wanted.setdefault((table, column), []).append(number)
        for (table, column), numbers in wanted.items():
            c.refs.prefetch(table, column, numbers)

    def _send(self, chunk: list[BatchItem], results: list[Exception | None]) -> None:
        c = self.connector
        pending = {item.id: item for item in chunk}
        for _ in range(1 + RESENDS):
            if not pending:
                return
            batch_id = str(next(c.batch_ids))
            doing = f"batch {batch_id}"
            try:
                body = request_body(batch_id, list(pending.values()))
                response = c.call("POST", c.base_url + BATCH_PATH, doing, json=body)
                answers, _ = parse_answer(batch_id, c.json(response, doing), c.base_url)
            except ConnectorError as exc:
                for item_id in pending:
                    results[int(item_id)] = exc
                return
            for item_id, answer in answers.items():
                item = pending.pop(item_id, None)
                if item is not None:
                    results[int(item_id)] = _outcome(item, answer)
        for item in pending.values():  # still unserviced after every re-send
            results[int(item.id)] = Unavailable(
                f"ServiceNow batch: {item.method} {item.url.split('?')[0]} was not serviced "
                f"after {1 + RESENDS} attempts"
            )


def _relative(write: Write) -> str:
    return f"/api/now/table/{write.table}/{write.sys_id}?sysparm_fields=sys_id"


def _outcome(item: BatchItem, answer: requests.Response) -> ConnectorError | None:
    doing = f"batch {item.method} {item.url.split('?')[0]}"
    if answer.status_code >= 400:
        return translate_error(answer, doing)
    try:
        body = answer.json() if answer.content else None
    except ValueError:
        return None
    return translate_error(answer, doing) if is_failure(body) else None
