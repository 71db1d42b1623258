"""Values on the wire, in records and in SQLite [1.3].

On the wire every value is a string and empty is `""`. SQLite keeps integers as INTEGER and
decimals as REAL (so `<` and ORDERBY compare numbers, as the platform does), booleans as
`"true"`/`"false"` and date-times as UTC `YYYY-MM-DD HH:MM:SS` text (which sorts by time).
A column never set is NULL; a string column cleared with `""` keeps `""` (EMPTYSTRING finds it).
Durations are epoch-relative date-times, as the platform writes them (`1970-01-01 08:00:00`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sandbox.servicenow.schema.model import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    Column,
)

_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]00:?00)?)?$"
)
TRUE, FALSE = "true", "false"


class BadValue(ValueError):
    """A value the column cannot hold; the platform ignores such fields [1.1]."""


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str) -> int:
    """Epoch seconds of `YYYY-MM-DD[ HH:MM[:SS]]` (UTC); BadValue otherwise."""
    match = _DATE.match(text.strip())
    if not match:
        raise BadValue(f"{text!r} is not a date-time")
    clock = match.group(2) or "00:00:00"
    clock = clock if clock.count(":") == 2 else clock + ":00"
    try:
        moment = datetime.strptime(f"{match.group(1)} {clock}", "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise BadValue(str(exc)) from None
    return int(moment.replace(tzinfo=UTC).timestamp())


def format_duration(seconds: float) -> str:
    """`1970-01-01 08:00:00` for eight hours, `1970-01-02 01:00:00` for 25 hours."""
    return format_time(max(0, int(seconds)))


def duration_seconds(text: str) -> int:
    return parse_time(text)


def duration_display(seconds: int) -> str:
    """`1 Day 2 Hours 5 Minutes`, as the platform shows durations."""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "Day"), (hours, "Hour"), (minutes, "Minute")]
    shown = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(shown) or f"{secs} Second{'s' if secs != 1 else ''}"


def plain(value: Any) -> str:
    """A JSON body value as the platform reads it: numbers and booleans as text, null as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):  # a display_value=all object sent back: its value
        return plain(value.get("value", ""))
    return str(value)


def to_db(column: Column, text: str) -> Any:
    """A wire string as stored; BadValue when the column cannot hold it."""
    kind = column.type
    if text == "":
        return "" if column.sql_type == "TEXT" and kind not in (BOOLEAN, DATETIME) else None
    if kind == INTEGER:
        try:
            return int(float(text))
        except ValueError:
            raise BadValue(f"{column.name}: {text!r} is not an integer") from None
    if kind == DECIMAL:
        try:
            return float(text)
        except ValueError:
            raise BadValue(f"{column.name}: {text!r} is not a number") from None
    if kind == BOOLEAN:
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return TRUE
        if lowered in ("false", "0", "no"):
            return FALSE
        raise BadValue(f"{column.name}: {text!r} is not true or false")
    if kind in (DATETIME, DURATION):
        return format_time(parse_time(text))
    if kind == DATE:
        return format_time(parse_time(text))[:10]
    return text


def to_wire(column: Column, stored: Any) -> str:
    """A stored value as the API shows it (`display_value=false`)."""
    if stored is None:
        return ""
    if column.type == DECIMAL:
        return f"{float(stored):.2f}"
    return str(stored)


def to_display(column: Column, stored: Any) -> str:
    """The display value of a non-reference column (choices by label, durations in words)."""
    if stored is None or stored == "":
        return ""
    value = to_wire(column, stored)
    if column.choices:
        return column.choice_label(value)
    if column.type == DURATION:
        try:
            return duration_display(duration_seconds(value))
        except BadValue:
            return value
    return value
