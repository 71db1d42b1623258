"""A time zone name in settings, checked when the settings load rather than when first used."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/Amsterdam' or 'UTC'"
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(known_zone)]
