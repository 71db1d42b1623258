"""Task SLAs: `contract_sla` definitions attached to tasks as `task_sla` rows [2.6].

A definition names a table (`collection`) and encoded-query conditions, evaluated with the
sandbox's own query engine after every insert and update of a task of that table: a new
`task_sla` starts when the start condition holds and the stop condition does not (and no
instance of that definition is running); a running one completes when the stop condition holds,
is cancelled when the start condition no longer does (the platform's default "cancel when start
conditions are not met"), pauses while the pause condition holds and resumes after, moving its
planned end on by the paused time. So a resolved incident that is reopened gets a new instance.
As the platform's 2011 engine does, a breach sets `has_breached` while the stage stays
`in_progress` (`breached` is the 2010 engine's stage, listed but not used). There are no
schedules: business times equal actual times. Reads of `task_sla` first bring the running rows
up to date (elapsed time, percentages, time left, breach), as the AR face's SLM reads do.
"""

from __future__ import annotations

import functools
from typing import Any

from sandbox.servicenow.datefuncs import Context
from sandbox.servicenow.encoded_query import Query, parse
from sandbox.servicenow.query_sql import Compiler
from sandbox.servicenow.storage import SnStore
from sandbox.servicenow.values import duration_seconds, format_duration, format_time

RUNNING = ("in_progress", "paused")


def definitions(sn: SnStore, table: str) -> list[dict[str, Any]]:
    return sn.where("contract_sla", "collection = ? AND active = 'true'", [table])


@functools.lru_cache(maxsize=256)
def _parsed(condition: str) -> Query:
    return parse(condition)


def holds(sn: SnStore, condition: str, task: dict[str, Any], context: Context) -> bool:
    """Whether the task row matches an encoded query (an empty condition never holds)."""
    if not condition:
        return False
    table = task["sys_class_name"]
    compiled = Compiler(table, context).where(_parsed(condition))
    storage = sn.schema.storage(table)
    sql = f"SELECT 1 FROM {storage} t WHERE t.sys_id = ? AND ({compiled.text})"
    return bool(sn.store.select(sql, [task["sys_id"], *compiled.params]))


def track(sn: SnStore, task: dict[str, Any], context: Context, user: str) -> None:
    """Start, stop, cancel, pause or resume the task's SLAs after a change."""
    for definition in definitions(sn, task["sys_class_name"]):
        running = sn.where(
            "task_sla",
            f"task = ? AND sla = ? AND stage IN ('{RUNNING[0]}', '{RUNNING[1]}')",
            [task["sys_id"], definition["sys_id"]],
        )
        starts = holds(sn, definition["start_condition"], task, context)
        stops = holds(sn, definition["stop_condition"], task, context)
        pauses = holds(sn, definition["pause_condition"], task, context)
        for row in running:
            changes = _next(row, starts, stops, pauses, context.now)
            if changes:
                _save(sn, row, changes, context.now, user)
        if not running and starts and not stops:
            attach(sn, task, definition, context.now, user)


def _next(row: dict[str, Any], starts: bool, stops: bool, pauses: bool, now: int) -> dict[str, Any]:
    if stops:
        return _finish(row, now, "completed")
    if not starts:
        return _finish(row, now, "cancelled")
    if pauses and row["stage"] == "in_progress":
        frozen = _clock(row, now)  # a paused clock stands still: refresh() skips it
        return {**frozen, "stage": "paused", "pause_time": format_time(now), "x_paused_at": now}
    if not pauses and row["stage"] == "paused":
        paused = now - row["x_paused_at"]
        total = row["x_paused"] + paused
        end = row["x_start"] + row["x_goal"] + total
        return {
            "stage": "in_progress",
            "pause_time": None,
            "x_paused_at": None,
            "x_paused": total,
            "pause_duration": format_duration(total),
            "business_pause_duration": format_duration(total),
            "planned_end_time": format_time(end),
        }
    return {}


def _finish(row: dict[str, Any], now: int, stage: str) -> dict[str, Any]:
    stopped = row["x_paused_at"] if row["stage"] == "paused" else now
    return {
        **_clock(row, stopped),
        "stage": stage,
        "active": "false",
        "end_time": format_time(now),
        "x_paused_at": None,
    }


def _clock(row: dict[str, Any], at: int) -> dict[str, Any]:
    elapsed = max(0, at - row["x_start"] - row["x_paused"])
    percent = round(elapsed * 100 / row["x_goal"], 2) if row["x_goal"] else 0.0
    left = format_duration(max(0, row["x_goal"] - elapsed))
    return {
        "duration": format_duration(elapsed),
        "business_duration": format_duration(elapsed),
        "percentage": percent,
        "business_percentage": percent,
        "time_left": left,
        "business_time_left": left,
        "has_breached": "true" if elapsed > row["x_goal"] else "false",
    }


def _save(sn: SnStore, row: dict[str, Any], changes: dict[str, Any], now: int, user: str) -> None:
    changes |= {
        "sys_updated_on": format_time(now),
        "sys_updated_by": user,
        "sys_mod_count": (row["sys_mod_count"] or 0) + 1,
    }
    sn.update("task_sla", row["sys_id"], changes)
    if changes.get("has_breached") == "true":
        storage = sn.schema.storage("task")
        sn.store.execute(f"UPDATE {storage} SET made_sla = 'false' WHERE sys_id = ?", [row["task"]])


def attach(
    sn: SnStore, task: dict[str, Any], definition: dict[str, Any], now: int, user: str
) -> None:
    goal = duration_seconds(definition["duration"] or "1970-01-01 00:00:00")
    stamp = format_time(now)
    row = {
        "sys_id": sn.sys_ids()[0],
        "task": task["sys_id"],
        "sla": definition["sys_id"],
        "stage": "in_progress",
        "active": "true",
        "start_time": stamp,
        "planned_end_time": format_time(now + goal),
        "original_breach_time": format_time(now + goal),
        "pause_duration": format_duration(0),
        "business_pause_duration": format_duration(0),
        "x_start": now,
        "x_goal": goal,
        "x_paused": 0,
        "sys_created_on": stamp,
        "sys_created_by": user,
        "sys_updated_on": stamp,
        "sys_updated_by": user,
        "sys_mod_count": 0,
    }
    row |= _clock(row, now)
    sn.insert("task_sla", row)


def refresh(sn: SnStore, now: int) -> None:
    """Bring running task SLAs up to `now`: elapsed, percentages, time left, breach; and mark
    their tasks `made_sla=false` once breached."""
    storage, tasks = sn.schema.storage("task_sla"), sn.schema.storage("task")
    sn.store.execute(
        f"UPDATE {tasks} SET made_sla = 'false' WHERE made_sla = 'true' AND sys_id IN "
        f"(SELECT task FROM {storage} WHERE stage = 'in_progress' AND has_breached = 'false' "
        "AND x_start + x_goal + x_paused < ?)",
        [now],
    )
    span = "strftime('%Y-%m-%d %H:%M:%S', {}, 'unixepoch')"
    left, percent = "MAX(0, c.goal - c.elapsed)", "ROUND(c.elapsed * 100.0 / MAX(c.goal, 1), 2)"
    sets = {
        "duration": span.format("c.elapsed"),
        "business_duration": span.format("c.elapsed"),
        "time_left": span.format(left),
        "business_time_left": span.format(left),
        "percentage": percent,
        "business_percentage": percent,
        "has_breached": "CASE WHEN c.elapsed > c.goal THEN 'true' ELSE 'false' END",
    }
    text = ", ".join(f'"{k}" = {v}' for k, v in sets.items())
    sn.store.execute(
        f"UPDATE {storage} SET {text} FROM (SELECT _row AS id, x_goal AS goal, "
        "MAX(0, ? - x_start - x_paused) AS elapsed "
        f"FROM {storage} WHERE stage = 'in_progress') AS c WHERE {storage}._row = c.id",
        [now],
    )
