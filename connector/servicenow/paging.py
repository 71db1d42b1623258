"""The Table API's URLs, read parameters and paging rule [reference 1.1, 1.2, 1.4]."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import requests

from connector.errors import InvalidResponse

API = "/api/now/table"
READ_PARAMS = {"sysparm_display_value": "false", "sysparm_exclude_reference_link": "true"}


def table_url(base: str, table: str, sys_id: str | None = None) -> str:
    url = f"{base}{API}/{quote(table, safe='')}"
    return url if sys_id is None else f"{url}/{quote(sys_id, safe='')}"


def more_pages(response: requests.Response, offset: int, size: int, count: int) -> bool:
    """Whether rows remain after the page at `offset` [1.4]; never decided by a short page."""
    total = response.headers.get("X-Total-Count", "").strip()
    if total.isdigit():
        return offset + size < int(total)
    if "Link" in response.headers:
        nxt = response.links.get("next")
        if nxt is None:
            return False
        asked = parse_qs(urlsplit(nxt.get("url", "")).query).get("sysparm_offset", [""])[0]
        if asked.lstrip("-").isdigit() and int(asked) <= offset:
            raise InvalidResponse(f"ServiceNow Link rel=next goes back to offset {asked}")
        return True
    return count > 0


def location_id(response: requests.Response) -> str | None:
    location = response.headers.get("Location")
    return urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1] if location else None
