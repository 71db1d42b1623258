"""The Table API's value formats: flat strings, UTC dates, epoch-relative durations [1.3]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connector.errors import InvalidResponse
from connector.servicenow.values import (
    duration_seconds,
    flat_value,
    flatten_record,
    format_sn_date,
    parse_sn_date,
)

FLAT = [
    ("a string", "1", "1"),
    ("empty is empty", "", ""),
    ("null is empty", None, ""),
    (
        "a reference with its link",
        {"link": "https://x/api/now/table/sys_user/abc", "value": "abc"},
        "abc",
    ),
    ("display_value=all", {"display_value": "New", "value": "1"}, "1"),
    ("a typed float choice", {"display_value": "New", "value": -5.0}, "-5"),
    ("a typed boolean", {"display_value": "false", "value": False}, "false"),
    ("a non-integral number", 62.5, "62.5"),
    (
        "display_value=true reference",
        {"display_value": "Fred", "link": "https://x/sys_user/f5a3"},
        "f5a3",
    ),
]


@pytest.mark.parametrize(("raw", "flat"), [f[1:] for f in FLAT], ids=[f[0] for f in FLAT])
def test_every_value_shape_flattens_to_the_raw_string(raw: object, flat: str) -> None:
    """Whatever sysparm_display_value gave, the codec sees the raw value as a string."""
    assert flat_value(raw) == flat


def test_values_that_are_not_values_are_reported() -> None:
    """A list, an object without value or link, or NaN is not a Table API value."""
    for raw in (["a"], {"display_value": "x"}, float("nan")):
        with pytest.raises(InvalidResponse):
            flat_value(raw, "state")
    with pytest.raises(InvalidResponse, match="incident record: field 'state'"):
        flatten_record({"state": ["a"]}, "incident record")


def test_dates_are_utc_both_ways() -> None:
    """Aware datetimes are written in UTC; naive Table API dates are read as UTC."""
    local = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert format_sn_date(local) == "2024-01-02 08:04:05"
    assert parse_sn_date("2024-01-02 08:04:05") == datetime(2024, 1, 2, 8, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_sn_date(datetime(2024, 1, 2))
    with pytest.raises(InvalidResponse, match="not a ServiceNow date"):
        parse_sn_date("02/01/2024 08:04:05")


def test_durations_count_from_the_epoch() -> None:
    """business_duration '1970-01-01 08:00:00' is eight hours; a second day adds 86400 s."""
    assert duration_seconds("1970-01-01 08:00:00") == 28800
    assert duration_seconds("1970-01-02 01:00:00") == 90000
    assert duration_seconds("28800") == 28800
