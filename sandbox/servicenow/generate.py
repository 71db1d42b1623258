"""Bulk incidents on the ServiceNow face, for benchmarks: hundreds of thousands in seconds.

Rows go straight into the task table with `executemany` (secondary indexes dropped and rebuilt
around large loads), with what the business rules would have set: numbers and sys_ids from the
same counters, priority from the matrix, `incident_state`, resolution and closure stamps.
Callers, groups (with one of their members as assignee) and services are drawn from the seeded
records. `attach_task_slas` gives the open incidents their task SLAs set-wise (one INSERT ...
SELECT per SLA definition, whose start and stop conditions are compiled by the query engine),
all starting in progress at `opened_at`; with no definition seeded (or with `goal_seconds`), a
"Generated: resolve within N hours" one is added. Reads of task_sla then bring them up to date.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from typing import Any

from sandbox.servicenow.datefuncs import Context
from sandbox.servicenow.encoded_query import parse
from sandbox.servicenow.query_sql import Compiler
from sandbox.servicenow.rules import priority
from sandbox.servicenow.storage import SYS_ID_BASE, SnStore
from sandbox.servicenow.values import duration_seconds, format_duration, format_time

SUMMARIES = ("Cannot log in to {s}", "{s} is slow", "Error page on {s}", "{s} unavailable")
OPEN, DONE = ("1", "2", "3"), ("6", "7")
COLUMNS = (
    "sys_id", "sys_class_name", "number", "task_effective_number", "short_description",
    "state", "incident_state", "impact", "urgency", "priority", "severity", "category",
    "active", "caller_id", "assignment_group", "assigned_to", "business_service", "opened_at",
    "opened_by", "resolved_at", "resolved_by", "closed_at", "closed_by", "close_code",
    "close_notes", "hold_reason", "u_service_type", "contact_type", "sys_created_on",
    "sys_created_by", "sys_updated_on", "sys_updated_by", "sys_mod_count", "made_sla",
    "approval", "escalation", "upon_approval", "upon_reject", "notify", "reopen_count",
    "reassignment_count", "child_incidents", "knowledge", "sys_domain", "sys_domain_path",
)  # fmt: skip


class _Draws:
    """The seeded records a row is drawn from."""

    def __init__(self, sn: SnStore) -> None:
        users = sn.where("sys_user", "active = 'true' AND user_name != 'admin'")
        self.callers = [u["sys_id"] for u in users] or [""]
        members: dict[str, list[str]] = defaultdict(list)
        for m in sn.where("sys_user_grmember"):
            members[m["group"]].append(m["user"])
        self.groups = [(g["sys_id"], members[g["sys_id"]]) for g in sn.where("sys_user_group")]
        self.services = [(s["sys_id"], s["name"]) for s in sn.where("cmdb_ci_service")] or [
            ("", "IT")
        ]


def generate_incidents(
    sn: SnStore, count: int, *, now: int, days: float = 30, open_ratio: float = 0.3, seed: int = 0
) -> tuple[str, str]:
    """Add `count` incidents opened over the last `days`, oldest first; returns the first and
    last number."""
    if count < 1:
        raise ValueError("count must be at least 1")
    draws, rng = _Draws(sn), random.Random(seed)
    ids, numbers = sn.sys_ids(count), sn.numbers("incident", count)
    start, step = now - int(days * 86400), days * 86400 / count
    rows = (
        _row(rng, draws, ids[i], numbers[i], start + int(i * step), now, open_ratio)
        for i in range(count)
    )
    storage = sn.schema.storage("incident")
    with sn.store.bulk_load(storage) if count >= 10_000 else sn.store.transaction():
        sn.insert_many("incident", COLUMNS, rows)
    return numbers[0], numbers[-1]


def _row(
    rng: random.Random, d: _Draws, sys_id: str, number: str, opened: int, now: int, ratio: float
) -> tuple[Any, ...]:
    r = rng.random
    state = OPEN[int(r() * 3)] if r() < ratio else DONE[int(r() * 2)]
    impact, urgency = 1 + int(r() * 3), 1 + int(r() * 3)
    group, members = d.groups[int(r() * len(d.groups))] if d.groups else ("", [])
    assignee = members[int(r() * len(members))] if members and state != "1" else None
    service, name = d.services[int(r() * len(d.services))]
    resolved = min(now, opened + 1800 + int(r() * 3 * 86400)) if state in DONE else None
    closed = resolved if state == "7" else None
    stamp, last = _stamp(opened), _stamp(resolved or opened)
    done = resolved is not None
    return (
        sys_id, "incident", number, number, SUMMARIES[int(r() * 4)].format(s=name),
        int(state), int(state), impact, urgency, priority(impact, urgency), 3, "inquiry",
        "false" if closed else "true", d.callers[int(r() * len(d.callers))],
        group or None, assignee, service or None, stamp, None,
        last if done else None, assignee if done else None,
        last if closed else None, assignee if closed else None,
        "Solution provided" if done else None, "Resolved by the generator" if done else None,
        1 if state == "3" else None, "user_service_restoration", "phone", stamp, "generator",
        last, "generator", 2 if done else 0, "true", "not requested", 0, "proceed", "cancel",
        1, 0, 0, 0, "false", "global", "/",
    )  # fmt: skip


def _stamp(epoch: int) -> str:
    """`format_time` without strftime per row: the day part is cached."""
    hours, rest = divmod(epoch % 86400, 3600)
    return f"{_day(epoch // 86400)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return format_time(day * 86400)[:10]


def attach_task_slas(
    sn: SnStore, first: str, last: str, now: int, *, goal_seconds: int | None = None
) -> int:
    """task_sla rows for the open incidents numbered `first`..`last`; returns how many.
    `goal_seconds` replaces the seeded definitions by one resolution definition of that goal."""
    definitions = sn.where("contract_sla", "collection = 'incident' AND active = 'true'")
    if goal_seconds is not None or not definitions:
        definitions = [_generated_definition(sn, now, goal_seconds or 3 * 86400)]
    return sum(_attach(sn, d, first, last, now) for d in definitions)


def _attach(sn: SnStore, definition: dict[str, Any], first: str, last: str, now: int) -> int:
    compiler = Compiler("incident", Context(now))
    starts = compiler.where(parse(definition["start_condition"] or "active=true"))
    stop = definition["stop_condition"]
    stops = compiler.where(parse(stop)) if stop else None
    task, sla = sn.schema.storage("incident"), sn.schema.storage("task_sla")
    condition = (
        "t.sys_class_name = 'incident' AND t.number BETWEEN ? AND ? AND t.state IN (1, 2, 3) "
        f"AND ({starts.text})"
    )
    params = [first, last, *starts.params]
    if stops is not None:
        condition += f" AND NOT ({stops.text})"
        params += stops.params
    found = int(sn.store.select(f"SELECT COUNT(*) FROM {task} t WHERE {condition}", params)[0][0])
    if not found:
        return 0
    base = SYS_ID_BASE + sn.store.reserve("sn:sys_id", found)
    goal = _seconds(definition["duration"])
    begin = "CAST(strftime('%s', t.opened_at) AS INTEGER)"
    stamp = format_time(now)
    sn.store.execute(
        f"INSERT INTO {sla} (sys_id, task, sla, stage, active, has_breached, start_time, "
        "planned_end_time, original_breach_time, x_start, x_goal, x_paused, percentage, "
        "business_percentage, sys_created_on, sys_created_by, sys_updated_on, sys_updated_by, "
        "sys_mod_count) "
        "SELECT printf('%08x', ? + ROW_NUMBER() OVER (ORDER BY t._row)) "
        "|| lower(hex(randomblob(12))), t.sys_id, ?, 'in_progress', 'true', 'false', t.opened_at, "
        f"datetime({begin} + ?, 'unixepoch'), datetime({begin} + ?, 'unixepoch'), {begin}, ?, "
        f"0, 0, 0, ?, 'generator', ?, 'generator', 0 FROM {task} t WHERE {condition}",
        [base - 1, definition["sys_id"], goal, goal, goal, stamp, stamp, *params],
    )
    return found


def _seconds(duration: str | None) -> int:
    return duration_seconds(duration or "1970-01-04 00:00:00")


def _generated_definition(sn: SnStore, now: int, goal: int) -> dict[str, Any]:
    name = f"Generated: resolve within {goal // 3600} hours"
    found = sn.first("contract_sla", name=name)
    if found is not None:
        return found
    stamp = format_time(now)
    row = {
        "sys_id": sn.sys_ids()[0],
        "name": name,
        "type": "SLA",
        "target": "resolution",
        "collection": "incident",
        "duration": format_duration(goal),
        "start_condition": "active=true",
        "stop_condition": "stateIN6,7",
        "pause_condition": "state=3",
        "active": "true",
        "sys_created_on": stamp,
        "sys_created_by": "generator",
        "sys_updated_on": stamp,
        "sys_updated_by": "generator",
        "sys_mod_count": 0,
    }
    sn.insert("contract_sla", row)
    return row
