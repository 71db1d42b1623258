"""Crontab expressions as crontab means them, on APScheduler 3.

`CronTrigger.from_crontab` differs from crontab in two ways that would silently move a job:
- it numbers weekdays from Monday (0 = Monday), crontab from Sunday (0 and 7 = Sunday), so
  `0 6 * * 1` would run on Tuesdays (APScheduler issue 286, kept in 3.x for compatibility);
- with both day of month and day of week restricted it runs when both match, crontab when
  either does.
So the day-of-week field is rewritten to weekday names, which both read the same way, and an
expression restricting both days is refused with a hint, rather than run on other days.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ANY = ("*", "?")


def crontab_trigger(expr: str, timezone: tzinfo) -> CronTrigger:
    """A trigger for a 5-field crontab expression (minute hour day month weekday)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"{len(fields)} fields; a crontab expression has 5: minute hour day month weekday"
        )
    minute, hour, day, month, weekday = fields
    if day not in _ANY and weekday not in _ANY:
        raise ValueError(
            "restricts both day of month and day of week, which crontab runs on either day "
            "and APScheduler only on days matching both; use two jobs"
        )
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week(weekday),
        timezone=timezone,
    )


def day_of_week(field: str) -> str:
    """Crontab's weekday field as weekday names: `1-5` -> `mon,tue,wed,thu,fri`."""
    if field in _ANY:
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        days |= _days(part)
    return ",".join(DAYS[d] for d in sorted(days))


def _days(part: str) -> set[int]:
    body, slash, step_text = part.partition("/")
    if slash and (not step_text.isdigit() or int(step_text) == 0):
        raise ValueError(f"weekday step {part!r} is not a positive whole number")
    step = int(step_text) if slash else 1
    if body in _ANY:
        first, last = 0, 6
    elif "-" in body:
        start, _, end = body.partition("-")
        first, last = _day(start), _day(end)
    else:
        first = _day(body)
        last = 6 if slash else first
    if first > last:
        raise ValueError(f"weekday range {body!r} runs backwards (Sunday is 0 or 7)")
    return {d % 7 for d in range(first, last + 1, step)}


def _day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    name = token.lower()
    if name in DAYS:
        return DAYS.index(name)
    raise ValueError(f"weekday {token!r} is neither 0-7 (0 and 7: Sunday) nor sun..sat")
