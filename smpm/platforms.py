"""Open the connector the settings describe; the only place that knows every platform class."""

from __future__ import annotations

from connector.codec import load_platform_mapping
from connector.errors import ConfigurationError
from connector.remedy import RemedyConnector, RemedyOptions
from mappings.loader import PlatformMapping
from smpm.settings import Settings


def platform_mapping(settings: Settings) -> PlatformMapping:
    return load_platform_mapping(
        settings.platform, settings.mapping or None, f"{settings.source} [mapping]"
    )


def open_connector(settings: Settings) -> RemedyConnector:
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
    raise ConfigurationError(
        f"{settings.source}: platform: {settings.platform!r} is not available yet"
    )
