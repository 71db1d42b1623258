"""The webhook service: authenticate, validate, store durably, then answer 202 with the event id.

Order of checks, each answered before anything is stored, and as early as the request allows:
1. a declared Content-Length over `max_body_bytes` -> 413, before anything is read;
2. credentials missing or wrong in the headers -> 401, before the body is read (a bearer token
   or basic credentials are checked whole, a signature for its form and timestamp);
3. a bad `X-Smpm-Delivery` header -> 422 naming it;
4. the body is read, at most `max_body_bytes` (413 past that); a signature is verified over it
   -> 401. Bodies read before their signature is verified share a budget of UNVERIFIED_BODIES
   times `max_body_bytes`: past it, 503 before reading;
5. not JSON -> 400;
6. not the endpoint's schema -> 422 naming the fields at fault (the first 20, and how many).
Then the items go to the group-commit writer; 202 only once they are committed. A redelivery
gets the id of the stored event and `duplicate: true`. Should the database refuse this
request's rows, 422 with its reason; should it be unavailable, 503: nothing was stored either
way. A sender that hangs up mid-upload is counted (`aborted`), not logged with a traceback.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, text
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from smpm.intake.auth import Denied, HookAuth, Signature, admit, verify
from smpm.intake.config import HooksSection, ServeSection
from smpm.intake.metrics import IntakeMetrics
from smpm.intake.models import (
    ENDPOINTS,
    AlertmanagerPayload,
    GenericEvent,
    Intake,
    RecordNotification,
    alert_fields,
    intake_item,
)
from smpm.intake.store import Accepted, counts
from smpm.intake.writer import GroupWriter, refused_rows, why

DELIVERY_HEADER = "x-smpm-delivery"
DELIVERY_ID = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII; the store keeps 200 characters
LENGTH = re.compile(r"[0-9]+")
MAX_PROBLEMS = 20  # listed in a 422; the rest are counted
# Bodies of max_body_bytes that may be read at once before their signature is verified: a
# well-formed, fresh X-Smpm-Signature takes no secret to write, so without a budget 1,000 slow
# uploads under made-up signatures would still be buffered whole (1 GB at 1 MiB each).
UNVERIFIED_BODIES = 64


class _TooLarge(Exception):
    pass


class _Gone(Exception):
    """The sender hung up before its body was complete."""


class _Busy(Exception):
    """The budget for bodies still to be verified is spent."""


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
    handler = _Hooks(serve, hooks, writer, metrics, now)

    def hook_for(endpoint: str) -> Callable[[Request], Awaitable[Response]]:
        async def hook(request: Request) -> Response:
            return await handler.accept(endpoint, request)

        return hook

    @app.post("/hooks/{endpoint}")
    def unknown(endpoint: str) -> JSONResponse:
        return _error(404, f"no endpoint /hooks/{endpoint}; known: {', '.join(ENDPOINTS)}")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "events": counts(engine), **metrics.health()})

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return HookDispatch({f"/hooks/{e}": hook_for(e) for e in ENDPOINTS}, app)


class _Hooks:
    """One request to a hook, in the order of the module docstring."""

    def __init__(
        self,
        serve: ServeSection,
        hooks: HooksSection,
        writer: GroupWriter,
        metrics: IntakeMetrics,
        now: Callable[[], float],
    ) -> None:
        self.serve = serve
        self.hooks = hooks
        self.writer = writer
        self.metrics = metrics
        self.now = now
        self._unverified = 0  # bytes reserved by bodies being read before their signature check
        self._budget = UNVERIFIED_BODIES * serve.max_body_bytes

    async def accept(self, endpoint: str, request: Request) -> Response:
        rejected = self.metrics.rejected
        try:
            signature = self._admit(endpoint, request)
            delivery_id = _delivery_id(request.headers.get(DELIVERY_HEADER))
            if signature is None:
                body = await _read(request, self.serve.max_body_bytes)
            else:
                body = await self._signed_body(request, self._auth(endpoint), signature)
            items = parse(endpoint, body, delivery_id)
        except _TooLarge:
            rejected.labels(endpoint, "too_large").inc()
            return _error(413, f"body larger than {self.serve.max_body_bytes} bytes")
        except Denied as denied:
            rejected.labels(endpoint, denied.reason).inc()
            return _error(401, denied.detail, {"WWW-Authenticate": 'Basic realm="smpm"'})
        except _Refusal as refusal:
            rejected.labels(endpoint, refusal.reason).inc()
            return JSONResponse(refusal.body, status_code=refusal.status)
        except _Gone:
            rejected.labels(endpoint, "aborted").inc()
            return _error(400, "the request ended before its body was complete")
        except _Busy:
            rejected.labels(endpoint, "busy").inc()
            message = "too many signed uploads are being read at once; send it again shortly"
            return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "1"})
        return await self._store(endpoint, items)

    def _auth(self, endpoint: str) -> HookAuth:
        auth: HookAuth | None = getattr(self.hooks, endpoint)
        if auth is None:
            raise Denied("not_configured", f"/hooks/{endpoint} is not enabled on this server")
        return auth

    def _admit(self, endpoint: str, request: Request) -> Signature | None:
        """What the headers say, before a byte of the body is read: its declared length, then
        its credentials."""
        declared = request.headers.get("content-length")
        if declared is not None:
            if not LENGTH.fullmatch(declared):
                raise _Refusal(400, "bad_length", {"error": "Content-Length is not a number"})
            if len(declared) > 18 or int(declared) > self.serve.max_body_bytes:
                raise _TooLarge
        auth = self._auth(endpoint)
        return admit(auth, request.headers, self.now, self.serve.signature_tolerance_seconds)

    async def _signed_body(self, request: Request, auth: HookAuth, signature: Signature) -> bytes:
        """The body, verified against its signature. While it is read it holds its declared
        length (max_body_bytes when it declares none) of the budget for unverified bodies; a
        request that would overspend it is refused (503) before it is read."""
        declared = request.headers.get("content-length")
        size = int(declared) if declared is not None else self.serve.max_body_bytes
        if self._unverified + size > self._budget:
            raise _Busy
        self._unverified += size  # one event loop: no lock needed between the check and this
        try:
            body = await _read(request, self.serve.max_body_bytes)
        finally:
            self._unverified -= size
        verify(auth, signature, body)
        return body

    async def _store(self, endpoint: str, items: list[Intake]) -> Response:
        try:
            accepted = await self.writer.store(items)
        except Exception as exc:  # the writer logged it; the sender hears what to do
            if refused_rows(exc):
                self.metrics.rejected.labels(endpoint, "store_refused").inc()
                return _error(422, f"the event store refused this request: {why(exc)}")
            self.metrics.rejected.labels(endpoint, "store_unavailable").inc()
            return JSONResponse(
                {"error": "the event store is unavailable; nothing was stored: send it again"},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        new = sum(not a.duplicate for a in accepted)
        self.metrics.received.labels(endpoint).inc(new)
        self.metrics.duplicates.labels(endpoint).inc(len(accepted) - new)
        return _answer(accepted)


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
    """The body, refused past `limit` bytes as soon as it gets there (a declared length over it
    was refused before reading)."""
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
    except ClientDisconnect:
        raise _Gone from None
    return b"".join(chunks)


def _delivery_id(value: str | None) -> str | None:
    """The sender's delivery id, if it sent one: 1 to 200 visible ASCII characters."""
    if not value:
        return None
    if DELIVERY_ID.fullmatch(value):
        return value
    problem = (
        f"is {len(value)} characters long; at most 200"
        if len(value) > 200
        else "may hold only visible ASCII characters (no spaces)"
    )
    raise _Refusal(
        422,
        "schema",
        {
            "error": "invalid X-Smpm-Delivery header",
            "fields": [{"field": "X-Smpm-Delivery", "problem": problem}],
        },
    )


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
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if errors[0]["type"] == "json_invalid":
            problem = errors[0]["msg"].removeprefix("Invalid JSON: ")
            raise _Refusal(400, "not_json", {"error": f"body is not JSON: {problem}"}) from None
        raise _schema_refusal([(_where(err["loc"]), err["msg"]) for err in errors]) from None
    if isinstance(payload, AlertmanagerPayload):
        return [_alert_item(payload, n) for n in range(len(payload.alerts))]
    return [intake_item(endpoint, payload, delivery_id)]


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)[:200] or "(body)"


def _schema_refusal(problems: list[tuple[str, str]]) -> _Refusal:
    """A 422 naming the first MAX_PROBLEMS fields at fault, and how many problems there are: a
    body of 60,000 unknown fields gets a short answer."""
    listed = [
        {"field": field, "problem": problem.removeprefix("Value error, ")}
        for field, problem in problems[:MAX_PROBLEMS]
    ]
    error = "invalid body"
    if len(problems) > MAX_PROBLEMS:
        error = f"invalid body: {len(problems)} problems, the first {MAX_PROBLEMS} listed"
    return _Refusal(422, "schema", {"error": error, "fields": listed, "count": len(problems)})


def _alert_item(payload: AlertmanagerPayload, index: int) -> Intake:
    """One alert as an event, its problems named where the sender wrote them (a NaN `value`
    annotation is `alerts.0.annotations.value`, not the event's `value`)."""
    fields = alert_fields(payload.alerts[index], payload.receiver, at=f"alerts.{index}")
    try:
        event = GenericEvent(**{name: value for name, (_, value) in fields.items()})
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise _schema_refusal(
            [
                (fields[str(e["loc"][0])][0] if e["loc"] else f"alerts.{index}.labels", e["msg"])
                for e in errors
            ]
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
