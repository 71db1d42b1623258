"""ServiceNow's value formats: records as flat strings, UTC dates, epoch-relative durations.

The Table API sends every value as a string, empty as "" [reference 1.3]. Depending on
`sysparm_display_value` and `sysparm_exclude_reference_link` a value may instead be an object:
a reference `{link, value}`, or `{display_value, value[, display_value_internal, link]}` with
`display_value=all` (also the Change Management API's shape, where numbers and booleans may be
typed: `-5.0`, `false`). `flatten_record` reduces all of these to the raw value as a string, so
the codec sees one shape whatever the server sent. Dates are UTC `YYYY-MM-DD HH:MM:SS` without a
zone; durations are the same format counted from the epoch (`1970-01-01 08:00:00` is 8 hours).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from connector.errors import InvalidResponse

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_sn_date(value: datetime) -> str:
    """`2022-01-06 12:12:43`: UTC, the format the Table API reads and writes [1.3]."""
    if value.tzinfo is None:
        raise ValueError("dates sent to ServiceNow must be timezone-aware (they are sent as UTC)")
    return value.astimezone(UTC).strftime(DATE_FORMAT)


def parse_sn_date(text: str) -> datetime:
    """A Table API date (naive, UTC) as an aware UTC datetime."""
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidResponse(f"{text!r} is not a ServiceNow date (YYYY-MM-DD HH:MM:SS)") from None


def duration_seconds(text: str) -> int:
    """Seconds in a duration field, sent as a date counted from the epoch [3, swimlane capture]."""
    if text.strip().isdigit():
        return int(text)
    return int((parse_sn_date(text) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())


def flat_value(raw: Any, field: str = "value") -> str:
    """One value as the raw string the Table API would send with `display_value=false`."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidResponse(f"field {field!r} holds {raw!r}")
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        if "value" in raw:
            return flat_value(raw["value"], field)
        link = raw.get("link")
        if isinstance(link, str) and link:  # display_value=true: the sys_id ends the link
            return urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
    raise InvalidResponse(f"field {field!r} holds {type(raw).__name__} {raw!r:.80}, not a value")


def flatten_record(record: Any, where: str) -> dict[str, str]:
    """Field -> raw string for one record of a `result`; `where` names it in errors."""
    if not isinstance(record, Mapping):
        raise InvalidResponse(f"{where}: expected a record object, got {type(record).__name__}")
    try:  # a plain string, by far the most common value, is taken as it is (a listing's hot path)
        return {
            str(k): v if type(v) is str else flat_value(v, str(k))
            for k, v in record.items()
            if k != "__meta"
        }
    except InvalidResponse as exc:
        raise InvalidResponse(f"{where}: {exc}") from None


def result_list(body: Any, where: str) -> list[Any]:
    """The `result` array of a list answer [1.3]."""
    result = body.get("result") if isinstance(body, Mapping) else None
    if not isinstance(result, list):
        raise InvalidResponse(f"{where}: the answer has no 'result' array")
    return result


def result_record(body: Any, where: str) -> dict[str, str]:
    """The `result` object of a single-record answer (GET one, POST, PATCH) [1.3]."""
    result = body.get("result") if isinstance(body, Mapping) else None
    if not isinstance(result, Mapping):
        raise InvalidResponse(f"{where}: the answer has no 'result' object")
    return flatten_record(result, where)
