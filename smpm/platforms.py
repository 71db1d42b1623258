"""Open the connector the settings describe; the only place that knows every platform class."""

from __future__ import annotations

from connector.codec import load_platform_mapping
from connector.errors import ConfigurationError
from connector.remedy import RemedyConnector, RemedyOptions
from connector.servicenow import ServiceNowConnector, ServiceNowOptions
from connector.servicenow_auth import ServiceNowCredentials
from mappings.loader import PlatformMapping
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
            http=section.http.options(),
        )
        return RemedyConnector(options, mapping)
    if settings.platform == "servicenow":
        return ServiceNowConnector(servicenow_options(settings), mapping)
    raise ConfigurationError(
        f"{settings.source}: platform: {settings.platform!r} is not available yet"
    )


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
        http=section.http.options(),
    )
