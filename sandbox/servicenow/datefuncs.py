"""The `javascript:gs.*` helpers an encoded query may use as a value [1.6].

Only a small whitelist is evaluated (no script runs): the day, hour and minute helpers, today /
yesterday / tomorrow boundaries, month boundaries, `gs.dateGenerate('2024-01-01','00:00:00')`
(also with `'start'` / `'end'`), `gs.nowDateTime()` and `gs.getUserID()` / `gs.getUserName()`.
Dates are UTC, the sandbox users' time zone. Anything else is refused as not emulated.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sandbox.servicenow.encoded_query import NotEmulated
from sandbox.servicenow.values import BadValue, format_time, parse_time

_CALL = re.compile(r"^javascript:\s*gs\.(\w+)\((.*)\)\s*;?\s*$", re.DOTALL)
DAY = 86400


@dataclass(frozen=True)
class Context:
    """What the helpers need: the moment of the request and who is asking."""

    now: int
    user_name: str = ""
    user_sys_id: str = ""


def _day_start(epoch: int) -> int:
    return epoch - epoch % DAY


def _month(now: int, shift: int, end: bool) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    month = moment.month - 1 + shift
    year, month = moment.year + month // 12, month % 12 + 1
    day = monthrange(year, month)[1] if end else 1
    stamp = datetime(year, month, day, 23 if end else 0, 59 if end else 0, 59 if end else 0)
    return int(stamp.replace(tzinfo=UTC).timestamp())


def _int(args: list[str], default: int = 0) -> int:
    try:
        return int(float(args[0])) if args and args[0] != "" else default
    except ValueError:
        raise BadValue(f"{args[0]!r} is not a number") from None


def _date_generate(args: list[str]) -> int:
    date = args[0] if args else ""
    clock = args[1] if len(args) > 1 else "start"
    clock = {"start": "00:00:00", "end": "23:59:59"}.get(clock, clock)
    return parse_time(f"{date} {clock}")


_Helper = Callable[[Context, list[str]], int | str]
HELPERS: dict[str, _Helper] = {
    "daysAgo": lambda c, a: c.now - _int(a) * DAY,
    "daysAgoStart": lambda c, a: _day_start(c.now - _int(a) * DAY),
    "daysAgoEnd": lambda c, a: _day_start(c.now - _int(a) * DAY) + DAY - 1,
    "hoursAgo": lambda c, a: c.now - _int(a) * 3600,
    "hoursAgoStart": lambda c, a: (c.now - _int(a) * 3600) // 3600 * 3600,
    "hoursAgoEnd": lambda c, a: (c.now - _int(a) * 3600) // 3600 * 3600 + 3599,
    "minutesAgo": lambda c, a: c.now - _int(a) * 60,
    "minutesAgoStart": lambda c, a: (c.now - _int(a) * 60) // 60 * 60,
    "minutesAgoEnd": lambda c, a: (c.now - _int(a) * 60) // 60 * 60 + 59,
    "beginningOfToday": lambda c, a: _day_start(c.now),
    "endOfToday": lambda c, a: _day_start(c.now) + DAY - 1,
    "beginningOfYesterday": lambda c, a: _day_start(c.now) - DAY,
    "endOfYesterday": lambda c, a: _day_start(c.now) - 1,
    "beginningOfTomorrow": lambda c, a: _day_start(c.now) + DAY,
    "endOfTomorrow": lambda c, a: _day_start(c.now) + 2 * DAY - 1,
    "beginningOfThisMonth": lambda c, a: _month(c.now, 0, False),
    "endOfThisMonth": lambda c, a: _month(c.now, 0, True),
    "beginningOfLastMonth": lambda c, a: _month(c.now, -1, False),
    "endOfLastMonth": lambda c, a: _month(c.now, -1, True),
    "beginningOfNextMonth": lambda c, a: _month(c.now, 1, False),
    "endOfNextMonth": lambda c, a: _month(c.now, 1, True),
    "dateGenerate": lambda c, a: _date_generate(a),
    "nowDateTime": lambda c, a: c.now,
    "now": lambda c, a: c.now,
    "getUserID": lambda c, a: c.user_sys_id,
    "getUserName": lambda c, a: c.user_name,
}


def _args(text: str) -> list[str]:
    return [a.strip().strip("'\"") for a in text.split(",")] if text.strip() else []


def evaluate(value: str, context: Context) -> str:
    """A query value with any `javascript:gs.*()` call replaced by its result (a date-time as
    `YYYY-MM-DD HH:MM:SS`); other values unchanged."""
    if not value.startswith("javascript:"):
        return value
    match = _CALL.match(value)
    helper = HELPERS.get(match.group(1)) if match else None
    if match is None or helper is None:
        raise NotEmulated(f"{value[:60]!r}: only a few gs date helpers are emulated")
    result = helper(context, _args(match.group(2)))
    return format_time(result) if isinstance(result, int) else result


def shifted(context: Context, spec: str) -> str:
    """`@hour@ago@2` (RELATIVE operators) as a date-time: two hours before now."""
    parts = [p for p in spec.split("@") if p]
    units = {"minute": 60, "hour": 3600, "day": DAY, "week": 7 * DAY, "month": 30 * DAY}
    units |= {"quarter": 91 * DAY, "year": 365 * DAY}
    if len(parts) != 3 or parts[0] not in units or parts[1] not in ("ago", "ahead"):
        raise BadValue(f"{spec!r} is not @<unit>@ago|ahead@<count>")
    seconds = units[parts[0]] * _int(parts[2:])
    moment = datetime.fromtimestamp(context.now, UTC)
    moment += timedelta(seconds=seconds if parts[1] == "ahead" else -seconds)
    return format_time(int(moment.timestamp()))
