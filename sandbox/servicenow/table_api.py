"""The Table API [reference 1.1-1.5], and the dispatch of every `/api/now/...` call.

    GET|HEAD   /api/now[/v1|/v2]/table/{table}             list (X-Total-Count, Link)
    POST       /api/now[/v1|/v2]/table/{table}             201 + Location
    GET|HEAD   /api/now[/v1|/v2]/table/{table}/{sys_id}
    PUT|PATCH  /api/now[/v1|/v2]/table/{table}/{sys_id}    200 {"result": {...}}
    DELETE     /api/now[/v1|/v2]/table/{table}/{sys_id}    204
    POST       /api/now/v1/batch                           (batch.py)
    GET        /api/now[/v1]/stats/{table}                 (aggregate.py)

An unversioned path is the latest version, v2; on v1 an empty list is 404 [1.1].
`X-http-method-override` overrides the method [1.1]; `X-no-response-body: true` drops the
body of a POST, PUT or PATCH answer [1.1]. PUT behaves as PATCH [1.1, UNCONFIRMED].
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from sandbox.servicenow.auth import Authenticator
from sandbox.servicenow.calls import Answer, Call, failure, json_body
from sandbox.servicenow.datefuncs import Context
from sandbox.servicenow.encoded_query import NotEmulated
from sandbox.servicenow.errors import (
    SNError,
    invalid_table,
    no_record,
    no_records_v1,
    no_resource,
    not_emulated,
)
from sandbox.servicenow.links import link_header
from sandbox.servicenow.params import Options, full_query, options
from sandbox.servicenow.records import Actor, Records
from sandbox.servicenow.render import Renderer, View
from sandbox.servicenow.settings import ServiceNowSettings

log = logging.getLogger("smpm.sandbox.servicenow")
TABLE = re.compile(r"^/api/now(?:/(v1|v2))?/table/([^/]+)(?:/([^/]*))?/?$")
STATS = re.compile(r"^/api/now(?:/(v1))?/stats/([^/]+)/?$")
BATCH = "/api/now/v1/batch"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
Handler = Callable[[Call, str], Answer]


class TableApi:
    def __init__(
        self,
        records: Records,
        auth: Authenticator,
        settings: ServiceNowSettings,
        clock: Callable[[], float],
    ) -> None:
        self.records = records
        self.sn = records.sn
        self.auth = auth
        self.settings = settings
        self.clock = clock
        self.extra: dict[str, Handler] = {}  # "batch", "stats": set by their modules

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, call: Call) -> Answer:
        """Any `/api/now` call, errors answered in ServiceNow's envelope."""
        try:
            user = call.user or self.auth.user(call.header("authorization"))
            override = call.header("x-http-method-override").upper()
            if override in METHODS:
                call.method = override
            return self._route(call, user)
        except SNError as error:
            return failure(error)
        except NotEmulated as exc:
            return failure(not_emulated(str(exc)))
        except Exception as exc:  # answered like the platform's 500, and logged
            log.exception("sandbox error on %s %s", call.method, call.path)
            return failure(SNError(500, "Internal Server Error", type(exc).__name__))

    def _route(self, call: Call, user: str) -> Answer:
        if call.path.rstrip("/") == BATCH and "batch" in self.extra:
            return self.extra["batch"](call, user)
        stats = STATS.match(call.path)
        if stats and "stats" in self.extra:
            return self.extra["stats"](call, user)
        found = TABLE.match(call.path)
        if not found:
            raise no_resource()
        version, table, sys_id = found.groups()
        if table not in self.sn.schema:
            raise invalid_table(table)
        return self._table(call, user, version, table, sys_id or None)

    def _table(
        self, call: Call, user: str, version: str | None, table: str, sys_id: str | None
    ) -> Answer:
        method = call.method
        if method in ("GET", "HEAD"):
            answer = self.read(call, user, version, table, sys_id)
            return Answer(answer.status, None, answer.headers) if method == "HEAD" else answer
        if method == "POST" and sys_id is None:
            return self.create(call, user, version, table)
        if method in ("PUT", "PATCH") and sys_id is not None:
            return self.change(call, user, version, table, sys_id)
        if method == "DELETE" and sys_id is not None:
            self.auth.check_write(user, method)
            if not self.records.delete(table, sys_id):
                raise no_record()
            return Answer(204)
        raise SNError(405, "Method not Supported", f"{method} is not supported on this resource")

    # -- helpers ----------------------------------------------------------------------------------
    def actor(self, user: str) -> Actor:
        found = self.sn.first("sys_user", user_name=user)
        return Actor(user, found["sys_id"] if found else "", int(self.clock()))

    def view(self, call: Call, version: str | None, opts: Options) -> View:
        api = f"{call.base_url}/api/now" + (f"/{version}" if version else "")
        return View(opts.display, opts.exclude_links, opts.fields, api)

    def one(
        self, call: Call, version: str | None, table: str, row: dict[str, Any], opts: Options
    ) -> Any:
        return Renderer(self.sn, table, self.view(call, version, opts)).render([row])[0]

    # -- reading ----------------------------------------------------------------------------------
    def read(
        self, call: Call, user: str, version: str | None, table: str, sys_id: str | None
    ) -> Answer:
        opts = options(call.items)
        actor = self.actor(user)
        if sys_id is not None:  # a record the read ACL hides is "not found" [1.5]
            self.records.prepare_read(table, actor.now)
            row = self.records.get(table, sys_id)
            if row is None or not self.auth.may_read(user, table):
                raise no_record()
            return Answer(200, {"result": self.one(call, version, table, row, opts)})
        self.auth.check_query(user, table)
        self.records.prepare_read(table, actor.now)
        return self.list(call, user, version, table, opts, actor.context())

    def list(
        self,
        call: Call,
        user: str,
        version: str | None,
        table: str,
        opts: Options,
        context: Context,
    ) -> Answer:
        rows, total = self.records.query(
            table,
            full_query(table, opts),
            context,
            limit=opts.limit,
            offset=opts.offset,
            count=not opts.no_count,
            strict=self.settings.invalid_query_returns_no_rows,
        )
        if not rows and version == "v1":
            raise no_records_v1()
        page_size = len(rows)
        if self.auth.hides_rows(user, table):
            rows = []  # the read ACL drops rows after the limit and the count [1.2, 2.9]
        headers = {}
        if total is not None:
            headers["X-Total-Count"] = str(total)
        if not opts.suppress_pagination:
            url = f"{call.base_url}{call.path.rstrip('/')}"
            headers["Link"] = link_header(
                url,
                call.items,
                limit=opts.limit,
                offset=opts.offset,
                total=total,
                page_size=page_size,
            )
        body = Renderer(self.sn, table, self.view(call, version, opts)).render(rows)
        return Answer(200, {"result": body}, headers)

    # -- writing ----------------------------------------------------------------------------------
    def create(self, call: Call, user: str, version: str | None, table: str) -> Answer:
        self.auth.check_write(user, "POST")
        opts = options(call.items)
        body = json_body(call)
        row = self.records.insert(table, body, self.actor(user), display=opts.input_display)
        api = f"{call.base_url}/api/now" + (f"/{version}" if version else "")
        headers = {"Location": f"{api}/table/{table}/{row['sys_id']}"}
        if call.header("x-no-response-body").lower() == "true":
            return Answer(201, None, headers)
        return Answer(201, {"result": self.one(call, version, table, row, opts)}, headers)

    def change(self, call: Call, user: str, version: str | None, table: str, sys_id: str) -> Answer:
        self.auth.check_write(user, call.method)
        opts = options(call.items)
        body = json_body(call)
        actor = self.actor(user)
        row = self.records.update(table, sys_id, body, actor, display=opts.input_display)
        if row is None:
            raise no_record()
        if call.header("x-no-response-body").lower() == "true":
            return Answer(200)
        return Answer(200, {"result": self.one(call, version, table, row, opts)})
