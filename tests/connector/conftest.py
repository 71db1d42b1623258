"""Connector test fixtures: a fake clock, recorded sleeps, Remedy and ServiceNow connectors on
`responses`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import responses
from pydantic import SecretStr

from connector.codec import load_platform_mapping
from connector.http import HttpOptions
from connector.remedy import RemedyConnector, RemedyOptions
from connector.servicenow import ServiceNowConnector, ServiceNowOptions
from connector.servicenow.auth import ServiceNowCredentials
from mappings.loader import PlatformMapping

REMEDY_URL = "https://itsm.example.com:8443"
PASSWORD = "s3cret-Pa55-word"


def fake_jwt(lifetime: int = 3600, subject: str = "Allen") -> str:
    """A token shaped like AR's JWT (reference 1.1), with iat/exp claims."""

    def part(data: dict) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    claims = {"sub": subject, "iat": 1_700_000_000, "exp": 1_700_000_000 + lifetime}
    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


TOKEN = fake_jwt()


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sleeps:
    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def login_ok(mocked: responses.RequestsMock, token: str = TOKEN) -> None:
    mocked.post(f"{REMEDY_URL}/api/jwt/login", body=token, content_type="text/plain")


@pytest.fixture
def remedy(
    mocked: responses.RequestsMock,
    remedy_mapping: PlatformMapping,
    clock: FakeClock,
    sleeps: Sleeps,
) -> Iterator[RemedyConnector]:
    options = RemedyOptions(
        base_url=REMEDY_URL,
        username="Allen",
        password=SecretStr(PASSWORD),
        page_size=2,
        http=HttpOptions(attempts=4, backoff=0.5, max_backoff=8.0, sleep=sleeps),
        clock=clock,
    )
    connector = RemedyConnector(options, remedy_mapping)
    yield connector
    connector.session.close()


# -- ServiceNow ------------------------------------------------------------------------------------
SN_URL = "https://acme.service-now.com"
SN_PASSWORD = "Sn0w-s3cret-pw"
SN_CLIENT_SECRET = "cl1ent-s3cret-value"


@pytest.fixture(scope="session")
def servicenow_mapping() -> PlatformMapping:
    return load_platform_mapping("servicenow")


def sn_options(
    sleeps: Sleeps, clock: FakeClock, credentials: ServiceNowCredentials | None = None, **kw: object
) -> ServiceNowOptions:
    return ServiceNowOptions(
        base_url=SN_URL,
        credentials=credentials
        or ServiceNowCredentials("basic", "smpm.integration", SecretStr(SN_PASSWORD)),
        page_size=2,
        http=HttpOptions(attempts=4, backoff=0.5, max_backoff=8.0, sleep=sleeps),
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def sn(
    mocked: responses.RequestsMock,
    servicenow_mapping: PlatformMapping,
    clock: FakeClock,
    sleeps: Sleeps,
) -> Iterator[ServiceNowConnector]:
    """A ServiceNow connector with basic auth and pages of two rows."""
    connector = ServiceNowConnector(sn_options(sleeps, clock), servicenow_mapping)
    yield connector
    connector.close()
