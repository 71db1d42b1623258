"""Open the connector the settings describe; the only place that knows every platform class.

`session` opens one for a run and closes it after: the runner and the reviews both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from connector.base import Connector
from connector.codec import load_platform_mapping
from connector.errors import ConfigurationError
from connector.http import CallObserver
from connector.remedy import RemedyConnector, RemedyOptions
from connector.servicenow import ServiceNowConnector, ServiceNowOptions
from connector.servicenow.auth import ServiceNowCredentials
from mappings.loader import PlatformMapping
from smpm.intake.metrics import observe_itsm_call
from smpm.settings import Settings


def platform_mapping(settings: Settings) -> PlatformMapping:
    return load_platform_mapping(
        settings.platform, settings.mapping or None, f"{settings.source} [mapping]"
    )


def open_connector(settings: Settings) -> RemedyConnector | ServiceNowConnector:
    """A connector for the configured platform; errors name the setting that is missing."""
    mapping = platform_mapping(settings)
    if settings.platform == "remedy":
        section = settings.remedy
        if section.url is None or not section.username:
            raise ConfigurationError(
                f"{settings.source}: remedy.url and remedy.username are required "
                "(or SMPM_REMEDY__URL / SMPM_REMEDY__USERNAME)"
            )
        options = RemedyOptions(
            base_url=str(section.url),
            username=section.username,
            password=section.password_value(),
            auth_string=section.auth_string,
            page_size=section.page_size,
            http=section.http.options(on_call=call_observer("remedy", str(section.url))),
        )
        return RemedyConnector(options, mapping)
    if settings.platform == "servicenow":
        return ServiceNowConnector(servicenow_options(settings), mapping)
    raise ConfigurationError(
        f"{settings.source}: platform: {settings.platform!r} is not available yet"
    )


@contextmanager
def session(
    settings: Settings, connector_factory: Callable[[Settings], Connector] = open_connector
) -> Iterator[Connector]:
    connector = connector_factory(settings)
    try:
        yield connector
    finally:
        connector.close()


def servicenow_options(settings: Settings) -> ServiceNowOptions:
    """ServiceNow options from `[servicenow]`; secrets are read only for the chosen auth."""
    section = settings.servicenow
    if section.url is None:
        raise ConfigurationError(
            f"{settings.source}: servicenow.url is required (or SMPM_SERVICENOW__URL)"
        )
    basic = section.auth == "basic"
    needs_user = section.auth != "oauth_client_credentials"
    missing = [] if section.username or not needs_user else ["username"]
    missing += [] if section.client_id or basic else ["client_id"]
    if missing:
        raise ConfigurationError(
            f"{settings.source}: servicenow.auth = {section.auth!r} needs "
            + " and ".join(f"servicenow.{n}" for n in missing)
        )
    credentials = ServiceNowCredentials(
        mode=section.auth,
        username=section.username if needs_user else None,
        password=section.password_value() if needs_user else None,
        client_id=None if basic else section.client_id,
        client_secret=None if basic else section.client_secret_value(),
    )
    return ServiceNowOptions(
        base_url=str(section.url),
        credentials=credentials,
        page_size=section.page_size,
        batch_size=section.batch_size,
        sla_warning_percent=section.sla_warning_percent,
        http=section.http.options(on_call=call_observer("servicenow", str(section.url))),
    )


def call_observer(platform: str, base_url: str) -> CallObserver:
    """Each call of a connector to `base_url`, reported to `smpm_itsm_call_seconds`."""
    root = urlsplit(base_url).path.rstrip("/")

    def observe(method: str, url: str, status: str, seconds: float) -> None:
        path = urlsplit(url).path.removeprefix(root)
        observe_itsm_call(platform, method, resource_of(path), status, seconds)

    return observe


def resource_of(path: str) -> str:
    """What a call is about, for a metric label: the form or table ('HPD:Help Desk',
    'incident'), else the endpoint below `/api/` ('jwt/login', 'batch', 'oauth_token.do').
    Record ids are left out, so the labels stay as few as the forms and tables."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if parts[:4] == ["api", "arsys", "v1", "entry"] and len(parts) > 4:
        return parts[4]
    if parts[:3] == ["api", "now", "table"] and len(parts) > 3:
        return parts[3]
    if parts[:2] == ["api", "now"]:
        parts = [p for p in parts[2:] if p not in ("v1", "v2")]
    elif parts[:1] == ["api"]:
        parts = parts[1:]
    return "/".join(parts[:2]) or "/"
