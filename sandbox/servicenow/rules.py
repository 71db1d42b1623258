"""Business rules the platform runs on insert and update of the served tables [2.1-2.3, 2.9].

- priority from impact and urgency by the documented lookup [2.1] (incident and problem: 1-5;
  change_request: the same matrix capped at 4 - Low, its lowest choice); a priority sent by a
  client is overwritten, as the lookup rule does;
- `incident_state` mirrors `state` and `problem_state` mirrors problem `state` (either may be
  written);
- incident: Resolved stamps `resolved_at`/`resolved_by`; Closed stamps `closed_at`/`closed_by`
  and clears `active`, as Canceled does; leaving Resolved or Closed for an open state is a
  reopen (`reopen_count` + 1, `reopened_time`, `reopened_by`; resolution stamps cleared); a new
  `assignment_group` counts a reassignment;
- problem: Resolved and Closed stamp their dates, Closed clears `active`, leaving them is a
  reopen (`reopened_at`, `reopen_count`); `related_incidents` counts incidents naming it in
  `problem_id`, as `child_incidents` counts those naming an incident in `parent_incident`;
- change_request and change_task: Closed and Canceled stamp `closed_at` and clear `active`.
Choice values are not validated: the platform stores what it is given.
"""

from __future__ import annotations

from typing import Any

from sandbox.servicenow.storage import SnStore
from sandbox.servicenow.values import format_time

Row = dict[str, Any]
PRIORITY_TABLES = {"incident": 5, "problem": 5, "change_request": 4}  # table -> lowest priority
CLOSED = {"incident": (7, 8), "problem": (107,), "change_request": (3, 4), "change_task": (3, 4)}
RESOLVED = {"incident": 6, "problem": 106}
MIRRORS = {"incident": "incident_state", "problem": "problem_state"}


def priority(impact: Any, urgency: Any, lowest: int = 5) -> int | None:
    """The documented matrix: 1+1 -> 1 Critical ... 3+3 -> 5 Planning [2.1]."""
    if impact in (None, "") or urgency in (None, ""):
        return None
    value = min(max(int(impact), 1), 3) + min(max(int(urgency), 1), 3) - 1
    return min(value, lowest)


class Rules:
    def __init__(self, sn: SnStore) -> None:
        self.sn = sn

    def before_insert(self, table: str, row: Row, user_id: str, now: int) -> None:
        stamp = format_time(now)
        if table in self.sn.schema.classes("task"):
            row.setdefault("opened_at", stamp)
            if user_id:
                row.setdefault("opened_by", user_id)
            row["task_effective_number"] = row.get("number")
            self._mirror(table, row, row)
            self._derive(table, {}, row, row, user_id, now)
        elif table == "em_event":
            row.setdefault("time_of_event", stamp)
        elif table == "sys_user" and not row.get("name"):
            row["name"] = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
        elif table == "kb_knowledge" and row.get("workflow_state") == "published":
            row.setdefault("published", stamp[:10])

    def before_update(self, table: str, old: Row, changes: Row, user_id: str, now: int) -> None:
        if table not in self.sn.schema.classes("task"):
            if table == "kb_knowledge" and changes.get("workflow_state") == "published":
                changes.setdefault("published", format_time(now)[:10])
            return
        self._mirror(table, old, changes)
        merged = {**old, **changes}
        self._derive(table, old, changes, merged, user_id, now)
        group = changes.get("assignment_group")
        if group is not None and old.get("assignment_group") and group != old["assignment_group"]:
            changes["reassignment_count"] = (old.get("reassignment_count") or 0) + 1

    def after_write(self, table: str, old: Row | None, new: Row) -> None:
        """Counters kept on other records: related problems and parent incidents."""
        for field, parent, counter in (
            ("problem_id", "problem", "related_incidents"),
            ("parent_incident", "incident", "child_incidents"),
        ):
            if table != "incident":
                continue
            for sys_id in {(old or {}).get(field), new.get(field)} - {None, ""}:
                self._recount(parent, sys_id, field, counter)

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _mirror(table: str, old: Row, changes: Row) -> None:
        mirror = MIRRORS.get(table)
        if mirror is None:
            return
        if "state" in changes:
            changes[mirror] = changes["state"]
        elif changes.get(mirror) is not None:
            changes["state"] = changes[mirror]

    def _derive(self, table: str, old: Row, changes: Row, merged: Row, user: str, now: int) -> None:
        lowest = PRIORITY_TABLES.get(table)
        if lowest is not None:
            changes["priority"] = priority(merged.get("impact"), merged.get("urgency"), lowest)
        state, before = merged.get("state"), old.get("state")
        if state == before or state is None:
            return
        stamp = format_time(now)
        resolved, closed = RESOLVED.get(table), CLOSED.get(table, ())
        if state == resolved:
            changes.setdefault("resolved_at", stamp)
            changes.setdefault("resolved_by", user)
        if state in closed:
            changes.setdefault("closed_at", stamp)
            changes.setdefault("closed_by", user)
            changes["active"] = "false"
            if resolved is not None and not merged.get("resolved_at") and state == closed[0]:
                changes.setdefault("resolved_at", stamp)
                changes.setdefault("resolved_by", user)
        if (
            before is not None
            and before in (resolved, *closed)
            and state not in (resolved, *closed)
        ):
            self._reopen(table, old, changes, user, stamp)

    @staticmethod
    def _reopen(table: str, old: Row, changes: Row, user: str, stamp: str) -> None:
        changes["active"] = "true"
        changes["reopen_count"] = (old.get("reopen_count") or 0) + 1
        changes["reopened_by"] = user
        changes["reopened_time" if table == "incident" else "reopened_at"] = stamp
        for field in ("resolved_at", "resolved_by", "closed_at", "closed_by"):
            changes.setdefault(field, None)

    def _recount(self, table: str, sys_id: str, field: str, counter: str) -> None:
        storage = self.sn.schema.storage("task")
        self.sn.store.execute(
            f'UPDATE {storage} SET "{counter}" = (SELECT COUNT(*) FROM {storage} '
            f'WHERE "{field}" = ? AND sys_class_name = ?) WHERE sys_id = ? AND sys_class_name = ?',
            [sys_id, "incident", sys_id, table],
        )
