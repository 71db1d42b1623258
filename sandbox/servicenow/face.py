"""The ServiceNow face of the sandbox: its tables in the shared database file, its users and
tokens, and its HTTP routes (the Table, Batch and Aggregate APIs under `/api/now`, and
`/oauth_token.do`), served by the same server and port as the AR face.

The two faces keep parallel copies of the seeded organisation: a write through one face does
not show in the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.faults import FaultAnswer
from sandbox.seed_format import Seed
from sandbox.servicenow import platform
from sandbox.servicenow.aggregate import AggregateApi
from sandbox.servicenow.auth import Authenticator, Users
from sandbox.servicenow.batch import BatchApi
from sandbox.servicenow.calls import Call
from sandbox.servicenow.faults import PREFIXES, fault_answer
from sandbox.servicenow.oauth import OAuth, OAuthError
from sandbox.servicenow.records import Records
from sandbox.servicenow.seed_tickets import TicketSeeding
from sandbox.servicenow.settings import ServiceNowSettings
from sandbox.servicenow.storage import SnStore
from sandbox.servicenow.table_api import METHODS, TableApi
from sandbox.store import Store

SEEDED = "servicenow_seeded"
CONTROL_PATH = "/__sandbox/servicenow"


class ServiceNowFace:
    def __init__(
        self,
        store: Store,
        passwords: Mapping[str, str],
        clock: Callable[[], float],
        settings: ServiceNowSettings | Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = ServiceNowSettings.from_options(settings)
        self.clock = clock
        self.sn = SnStore(store)
        platform.install(self.sn, int(clock()))
        self.users = Users(passwords, self.settings)
        self.oauth = OAuth(self.settings, self.users.check, clock)
        self.auth = Authenticator(self.users, self.oauth)
        self.records = Records(self.sn)
        self.api = TableApi(self.records, self.auth, self.settings, clock)
        BatchApi(self.api)
        AggregateApi(self.api)
        self.fault_answer = fault_answer(self.settings, clock)

    # -- data -------------------------------------------------------------------------------------
    def is_seeded(self) -> bool:
        return bool(self.sn.store.get_meta(SEEDED, False))

    def seed(self, seed: Seed) -> None:
        """Apply a seed to the ServiceNow tables, once per database file."""
        with self.sn.store.transaction():
            TicketSeeding(self.records, int(self.clock())).apply(seed)
            self.sn.store.set_meta(SEEDED, True)

    def ensure_users(self) -> None:
        """A sys_user row for every login (the restricted user, `users=` additions)."""
        now = int(self.clock())
        with self.sn.store.transaction():
            for login in self.users.logins():
                names = {}
                if self.users.restricted(login):
                    names = {
                        "first_name": "ITIL",
                        "last_name": "Read Only",
                        "name": "ITIL Read Only",
                    }
                platform.ensure_user(self.sn, login, now, **names)

    def expire_tokens(self, refresh: bool = False) -> int:
        return self.oauth.expire_all(refresh)

    # -- HTTP ---------------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/now/{rest:path}", self._api, methods=list(METHODS)),
            Route("/oauth_token.do", self._token, methods=["POST"]),
        ]

    def control_routes(self) -> list[BaseRoute]:
        return [Route(CONTROL_PATH, self._control, methods=["GET", "PUT"])]

    def fault_answers(self) -> list[tuple[str, FaultAnswer]]:
        """ServiceNow-shaped injected faults for the face's path prefixes."""
        return [(prefix, self.fault_answer) for prefix in PREFIXES]

    async def _api(self, request: Request) -> Response:
        call = Call(
            method=request.method,
            path=request.url.path,
            items=list(request.query_params.multi_items()),
            body=await request.body(),
            headers={k.lower(): v for k, v in request.headers.items()},
            base_url=str(request.base_url).rstrip("/"),
        )
        answer = await run_in_threadpool(self.api.handle, call)
        return Response(answer.content(), answer.status, answer.all_headers())

    async def _token(self, request: Request) -> Response:
        body = await request.body()
        try:
            answer = self.oauth.token(request.headers.get("content-type", ""), body)
        except OAuthError as error:
            return JSONResponse(error.body, error.status)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _control(self, request: Request) -> Response:
        """GET the settings, or PUT some of them:
        `{"invalid_query_returns_no_rows": true, "denied_tables": ["incident"], ...}`."""
        if request.method == "PUT":
            try:
                patch = SettingsPatch.model_validate_json(await request.body() or b"{}")
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"]) or "body"
                return JSONResponse({"error": f"{where}: {err['msg']}"}, 400)
            self.settings.update(patch.model_dump(exclude_none=True))
        return JSONResponse(self.settings.public())


class SettingsPatch(BaseModel):
    """The settings `PUT /__sandbox/servicenow` may change."""

    model_config = ConfigDict(extra="forbid")
    invalid_query_returns_no_rows: bool | None = None
    denied_tables: list[str] | None = None
    client_credentials: bool | None = None
    client_credentials_user: str | None = None
    token_lifetime: float | None = Field(None, gt=0)
    rate_limit: int | None = Field(None, ge=0)
