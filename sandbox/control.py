"""The sandbox's own control routes under `/__sandbox/` (not part of AR; no authentication).

GET    /__sandbox/health            {"status": "ok"}
GET    /__sandbox/stats             request counts by route and status, recent requests
DELETE /__sandbox/stats             reset the counters
PUT    /__sandbox/latency           {"ms": 250}
GET    /__sandbox/faults            the pending fault rules
POST   /__sandbox/faults            {"kind": "status"|"reset"|"delay", "count": 2,
                                     "status": 503, "retry_after": "1", "seconds": 5,
                                     "method": "GET", "path_prefix": "/api/arsys", ...}
DELETE /__sandbox/faults            drop every pending fault
POST   /__sandbox/tokens/expire     expire every issued token now (AR JWTs and ServiceNow
                                     access tokens; `{"refresh": true}`: refresh tokens too)
POST   /__sandbox/incidents         {"count": 20000, "days": 30, "open_ratio": 0.3, "seed": 0,
                                     "platform": "remedy"|"servicenow", "measurements": false}
(The ServiceNow face adds GET|PUT /__sandbox/servicenow, its settings.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.auth import Tokens
from sandbox.faults import CONTROL_PREFIX, FaultRule, Faults


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["status", "reset", "delay"] = "status"
    count: int = Field(1, ge=1)
    method: str | None = None
    path_prefix: str | None = None
    status: int = Field(503, ge=100, le=599)
    retry_after: str | None = None
    message: str | None = None
    seconds: float = Field(0.0, ge=0, le=3600)

    @field_validator("retry_after", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    def rule(self) -> FaultRule:
        return FaultRule(**self.model_dump())


class Latency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ms: float = Field(ge=0, le=600_000)


class Generate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(ge=1, le=5_000_000)
    days: float = Field(30, gt=0)
    open_ratio: float = Field(0.3, ge=0, le=1)
    seed: int = 0
    platform: Literal["remedy", "servicenow"] = "remedy"
    measurements: bool = False


class Expire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh: bool = False


def _problem(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def _parse(request: Request, model: type[BaseModel]) -> BaseModel | Response:
    try:
        return model.model_validate(json.loads(await request.body() or b"{}"))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "body"
            return _problem(f"{where}: {err['msg']}")
        return _problem(f"the body is not valid JSON: {exc}")


class Control:
    def __init__(
        self,
        faults: Faults,
        tokens: Tokens,
        generate: Callable[..., tuple[str, str]],
        expire: Callable[..., int] | None = None,
    ) -> None:
        self.faults = faults
        self.tokens = tokens
        self.generate = generate
        self.expire_all = expire or (lambda refresh_tokens=False: tokens.expire_all())

    def routes(self) -> list[BaseRoute]:
        p = CONTROL_PREFIX
        return [
            Route(f"{p}/health", self.health, methods=["GET"]),
            Route(f"{p}/stats", self.stats, methods=["GET", "DELETE"]),
            Route(f"{p}/latency", self.latency, methods=["PUT"]),
            Route(f"{p}/faults", self.fault, methods=["GET", "POST", "DELETE"]),
            Route(f"{p}/tokens/expire", self.expire, methods=["POST"]),
            Route(f"{p}/incidents", self.incidents, methods=["POST"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.reset_stats()
            return Response(status_code=204)
        return JSONResponse(self.faults.stats())

    async def latency(self, request: Request) -> Response:
        parsed = await _parse(request, Latency)
        if isinstance(parsed, Latency):
            self.faults.latency_ms = parsed.ms
            return JSONResponse({"ms": parsed.ms})
        return parsed  # type: ignore[return-value]

    async def fault(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            parsed = await _parse(request, FaultSpec)
            if not isinstance(parsed, FaultSpec):
                return parsed  # type: ignore[return-value]
            self.faults.add(parsed.rule())
            return JSONResponse(self.faults.rules(), status_code=201)
        return JSONResponse(self.faults.rules())

    async def expire(self, request: Request) -> Response:
        parsed = await _parse(request, Expire)
        if not isinstance(parsed, Expire):
            return parsed  # type: ignore[return-value]
        return JSONResponse({"expired": self.expire_all(refresh_tokens=parsed.refresh)})

    async def incidents(self, request: Request) -> Response:
        parsed = await _parse(request, Generate)
        if not isinstance(parsed, Generate):
            return parsed  # type: ignore[return-value]
        first, last = await run_in_threadpool(self.generate, **parsed.model_dump())
        return JSONResponse({"first": first, "last": last}, status_code=201)
