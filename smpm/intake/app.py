"""The webhook service: authenticate, validate, store durably, then answer 202 with the event id.

Order of checks, each answered before anything is stored:
1. body larger than `max_body_bytes` -> 413 (checked on Content-Length and while reading);
2. credentials missing or wrong -> 401 (before the body is even parsed);
3. not JSON -> 400;
4. not the endpoint's schema -> 422 naming every field at fault.
Then the items go to the group-commit writer; 202 only once they are committed. A redelivery
gets the id of the stored event and `duplicate: true`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, text
from starlette.types import Receive, Scope, Send

from smpm.intake.auth import Denied, HookAuth, check
from smpm.intake.config import HooksSection, ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.models import (
    ENDPOINTS,
    AlertmanagerPayload,
    GenericEvent,
    Intake,
    RecordNotification,
    alert_to_event,
    intake_item,
)
from smpm.intake.store import Accepted, counts
from smpm.intake.writer import GroupWriter

DELIVERY_HEADER = "x-smpm-delivery"


class _TooLarge(Exception):
    pass


def create_app(
    serve: ServeSection,
    hooks: HooksSection,
    engine: Engine,
    writer: GroupWriter,
    metrics: IntakeMetrics,
    *,
    now: Callable[[], float] = time.time,
) -> HookDispatch:
    app = FastAPI(title="smpm webhooks", docs_url=None, redoc_url=None, openapi_url=None)

    def hook_for(endpoint: str) -> Callable[[Request], Awaitable[Response]]:
        async def hook(request: Request) -> Response:
            return await _accept(endpoint, request)

        return hook

    async def _accept(endpoint: str, request: Request) -> Response:
        try:
            body = await _read(request, serve.max_body_bytes)
        except _TooLarge:
            metrics.rejected.labels(endpoint, "too_large").inc()
            return _error(413, f"body larger than {serve.max_body_bytes} bytes")
        auth: HookAuth | None = getattr(hooks, endpoint)
        try:
            if auth is None:
                raise Denied("not_configured", f"/hooks/{endpoint} is not enabled on this server")
            check(auth, request.headers, body, now, serve.signature_tolerance_seconds)
        except Denied as denied:
            metrics.rejected.labels(endpoint, denied.reason).inc()
            return _error(401, denied.detail, {"WWW-Authenticate": 'Basic realm="smpm"'})
        try:
            items = parse(endpoint, body, request.headers.get(DELIVERY_HEADER))
        except _Refusal as refusal:
            metrics.rejected.labels(endpoint, refusal.reason).inc()
            return JSONResponse(refusal.body, status_code=refusal.status)
        accepted = await writer.store(items)
        new = sum(not a.duplicate for a in accepted)
        metrics.received.labels(endpoint).inc(new)
        metrics.duplicates.labels(endpoint).inc(len(accepted) - new)
        return _answer(accepted)

    @app.post("/hooks/{endpoint}")
    def unknown(endpoint: str) -> JSONResponse:
        return _error(404, f"no endpoint /hooks/{endpoint}; known: {', '.join(ENDPOINTS)}")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "events": counts(engine)})

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return HookDispatch({f"/hooks/{e}": hook_for(e) for e in ENDPOINTS}, app)


class HookDispatch:
    """The ASGI app served: a POST to a known hook goes straight to its handler, everything else
    (health, metrics, unknown paths and methods) to the FastAPI app.

    The hooks are the hot path; FastAPI's routing and middleware layers cost about as much
    per request as our own checks do, and a hook needs none of them: it reads its body,
    answers every error itself, and an exception it did not expect still ends as a 500 from
    uvicorn.
    """

    def __init__(self, hooks: dict[str, Callable[[Request], Awaitable[Response]]], app: FastAPI):
        self.hooks = hooks
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            hook = self.hooks.get(scope["path"])
            if hook is not None:
                response = await hook(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _Refusal(Exception):
    def __init__(self, status: int, reason: str, body: dict[str, Any]) -> None:
        super().__init__(reason)
        self.status, self.reason, self.body = status, reason, body


SCHEMAS: dict[str, type[BaseModel]] = {
    "events": GenericEvent,
    "alertmanager": AlertmanagerPayload,
    "remedy": RecordNotification,
    "servicenow": RecordNotification,
}


def parse(endpoint: str, body: bytes, delivery_id: str | None) -> list[Intake]:
    """Validated intake items for one request body, or a _Refusal saying what is wrong."""
    try:
        payload = SCHEMAS[endpoint].model_validate_json(body)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            problem = exc.errors()[0]["msg"].removeprefix("Invalid JSON: ")
            raise _Refusal(400, "not_json", {"error": f"body is not JSON: {problem}"}) from None
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors()
        ]
        raise _Refusal(422, "schema", {"error": "invalid body", "fields": problems}) from None
    if isinstance(payload, AlertmanagerPayload):
        return [_alert_item(payload, n) for n in range(len(payload.alerts))]
    return [intake_item(endpoint, payload, delivery_id)]


def _alert_item(payload: AlertmanagerPayload, index: int) -> Intake:
    try:
        event = alert_to_event(payload.alerts[index], payload.receiver)
    except ValidationError as exc:
        problem = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        field = f"alerts.{index}.labels"
        raise _Refusal(
            422,
            "schema",
            {"error": "invalid body", "fields": [{"field": field, "problem": problem}]},
        ) from None
    return intake_item("alertmanager", event, None)


def _answer(accepted: list[Accepted]) -> Response:
    ids = [a.id for a in accepted]
    duplicate = all(a.duplicate for a in accepted)
    return Response(
        json.dumps({"id": ids[0], "ids": ids, "duplicate": duplicate}),
        status_code=202,
        media_type="application/json",
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": message}, status_code=status, headers=headers if status == 401 else None
    )
