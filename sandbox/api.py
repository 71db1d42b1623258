"""The HTTP face of the AR System REST API subset the connector uses [reference 1, 2].

    POST /api/jwt/login | /api/jwt/logout
    GET|POST   /api/arsys/{v1|v1.0}/entry/{form}
    GET|PUT|DELETE /api/arsys/{v1|v1.0}/entry/{form}/{id}
    GET        /api/arsys/{v1|v1.0}/fields/{form}[/{fieldId}]

Answers follow the recorded bodies: `{"entries": [{"values", "_links"}], "_links"}` lists,
absolute links built from the request's own base URL (form names with spaces as %20 and the
colon kept, ids with `|` as %7C), dates as `2022-06-21T11:08:05.000+0000`, errors as AR arrays.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.auth import Tokens
from sandbox.engine import Engine, Entry
from sandbox.errors import ARError, bad_request, entry_not_found
from sandbox.fields import FieldDef, FieldType, to_wire
from sandbox.forms import Form, find_form
from sandbox.query import selected_fields

log = logging.getLogger("smpm.sandbox")

DEFAULT_LIMIT = 100  # "the default page limit of 100" [2.13] (UNCONFIRMED for /entry)
MAX_LIMIT = 2000  # larger limits are capped, as by AR's "Max Entries Returned by GetList"
VERSIONS = ("v1", "v1.0")
_QUERY_SAFE = "=:,()/$"  # kept literal in echoed links, as `=` is in list_worklogs.json


class ARApi:
    def __init__(self, engine: Engine, tokens: Tokens) -> None:
        self.engine = engine
        self.tokens = tokens

    def routes(self) -> list[BaseRoute]:
        base = "/api/arsys/{version}"
        return [
            Route("/api/jwt/login", self.login, methods=["POST"]),
            Route("/api/jwt/logout", self.logout, methods=["POST"]),
            Route(base + "/entry/{form}", self.entries, methods=["GET", "POST"]),
            Route(base + "/entry/{form}/", self.entries, methods=["GET", "POST"]),
            Route(base + "/entry/{form}/{entry_id}", self.entry, methods=["GET", "PUT", "DELETE"]),
            Route(base + "/fields/{form}", self.fields, methods=["GET"]),
            Route(base + "/fields/{form}/{field_id}", self.fields, methods=["GET"]),
        ]

    # -- authentication ----------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        """Form-encoded `username`, `password` (and an ignored `authString`) [1.1]."""
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        username = form.get("username", [""])[0]
        token = self.tokens.login(username, form.get("password", [""])[0])
        return PlainTextResponse(token)

    async def logout(self, request: Request) -> Response:
        self.tokens.logout(request.headers.get("authorization"))
        return Response(status_code=204)

    def user(self, request: Request) -> str:
        if request.path_params["version"] not in VERSIONS:
            raise ARError(404, 0, "Not Found", request.url.path)
        return self.tokens.user(request.headers.get("authorization"))

    # -- entries -----------------------------------------------------------------------------
    async def entries(self, request: Request) -> Response:
        user = self.user(request)
        if request.method == "POST":
            return await self.create(request, user)
        form, params = request.path_params["form"], request.query_params
        offset, limit = _paging(params.get("offset"), params.get("limit"))
        page = await run_in_threadpool(
            self.engine.list_entries,
            form,
            user=user,
            q=params.get("q"),
            fields=params.get("fields"),
            sort=params.get("sort"),
            offset=offset,
            limit=limit,
        )
        links = Links(request)
        items = list(params.multi_items())
        body: dict[str, Any] = {
            "entries": [links.entry_json(e, self._types(form)) for e in page.entries],
            "_links": {"self": [{"href": links.form_url(items)}]},
        }
        if page.more:
            rest = [(k, v) for k, v in items if k not in ("offset", "limit")]
            following = [("offset", str(offset + limit)), ("limit", str(limit)), *rest]
            body["_links"]["next"] = [{"href": links.form_url(following)}]
        return JSONResponse(body)

    async def entry(self, request: Request) -> Response:
        user = self.user(request)
        form, entry_id = request.path_params["form"], request.path_params["entry_id"]
        if request.method == "PUT":
            values = _values(await request.body())
            await run_in_threadpool(self.engine.update_entry, form, entry_id, values, user=user)
            return Response(status_code=204)
        if request.method == "DELETE":
            await run_in_threadpool(self.engine.delete_entry, form, entry_id, user=user)
            return Response(status_code=204)
        found = await run_in_threadpool(
            self.engine.get_entry,
            form,
            entry_id,
            user=user,
            fields=request.query_params.get("fields"),
        )
        return JSONResponse(Links(request).entry_json(found, self._types(form)))

    async def create(self, request: Request, user: str) -> Response:
        """201 + Location; with `fields=values(...)` the requested non-null values [2.5]."""
        form_name = request.path_params["form"]
        values = _values(await request.body())
        fields = request.query_params.get("fields")
        if fields is not None:
            find_form(form_name)  # 303 before anything else, as for every operation
        created = await run_in_threadpool(self.engine.create_entry, form_name, values, user=user)
        if created.record is None:  # a join form: no entry id, fields not honoured [2.5]
            return Response(status_code=204)
        links = Links(request)
        key = str(created.record[created.form.key])
        headers = {"Location": links.entry_url(key)}
        if fields is None:
            return Response(status_code=201, headers=headers)
        body = {
            "values": _created_values(created.form, created.record, fields),
            "_links": {"self": [{"href": links.form_url([])}]},
        }
        return JSONResponse(body, status_code=201, headers=headers)

    async def fields(self, request: Request) -> Response:
        """The form's fields (shape chosen by the sandbox; UNCONFIRMED)."""
        self.user(request)
        form = find_form(request.path_params["form"])
        wanted = request.path_params.get("field_id")
        listed = [_field_json(f) for f in form.fields]
        if wanted is None:
            return JSONResponse(listed)
        found = form.field(wanted)
        if found is None:
            raise entry_not_found(wanted)
        return JSONResponse(_field_json(found))

    @staticmethod
    def _types(form_name: str) -> dict[str, FieldDef]:
        return find_form(form_name).by_name


class Links:
    """Absolute links in the shapes of the recorded bodies, from the request's base URL."""

    def __init__(self, request: Request) -> None:
        base = str(request.base_url).rstrip("/")
        version = request.path_params["version"]
        form = quote(request.path_params["form"], safe=":")
        self.base = f"{base}/api/arsys/{version}/entry/{form}"

    def form_url(self, items: list[tuple[str, str]]) -> str:
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe=_QUERY_SAFE)}" for k, v in items)
        return self.base + (f"?{query}" if query else "")

    def entry_url(self, entry_id: str) -> str:
        return f"{self.base}/{quote(entry_id, safe='')}"

    def entry_json(self, entry: Entry, types: dict[str, FieldDef]) -> dict[str, Any]:
        values = {name: to_wire(types[name], value) for name, value in entry.values.items()}
        return {"values": values, "_links": {"self": [{"href": self.entry_url(entry.link_id)}]}}


def _created_values(form: Form, record: dict[str, Any], fields: str) -> dict[str, Any]:
    chosen = selected_fields(form, fields)
    if chosen is None:  # `fields=` with nothing in it: the whole new entry [2.5]
        return {f.name: to_wire(f, record.get(f.name)) for f in form.fields}
    return {f.name: to_wire(f, record[f.name]) for f in chosen if record.get(f.name) is not None}


def _field_json(field: FieldDef) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": field.id,
        "name": field.name,
        "datatype": field.type.value,
        "field_option": "SYSTEM" if field.readonly else "OPTIONAL",
    }
    if field.type is FieldType.ENUM and field.selection:
        out["selection_values"] = list(field.selection.labels)
    return out


def _values(body: bytes) -> Any:
    """The `values` object of a JSON request body; AR error 400 naming the problem."""
    try:
        parsed = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("values"), dict):
        raise bad_request('the body must be a JSON object {"values": {...}}')
    return parsed["values"]


def _paging(offset: str | None, limit: str | None) -> tuple[int, int]:
    try:
        start = int(offset) if offset not in (None, "") else 0
        size = int(limit) if limit not in (None, "") else DEFAULT_LIMIT
    except ValueError:
        problem = f"offset and limit must be integers (got {offset!r}, {limit!r})"
        raise bad_request(problem) from None
    if start < 0 or size < 0:
        raise bad_request("offset and limit must not be negative")
    return start, min(size or MAX_LIMIT, MAX_LIMIT)


async def _ar_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ARError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("sandbox error on %s %s", request.method, request.url.path)
    body = ARError(500, 0, "Internal Server Error", type(exc).__name__).body()
    return JSONResponse(body, status_code=500)


def create_app(api: ARApi, control: list[BaseRoute]) -> Starlette:
    return Starlette(
        routes=[*api.routes(), *control],
        exception_handlers={ARError: _ar_error, Exception: _crash},
    )
