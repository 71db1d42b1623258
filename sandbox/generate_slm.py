"""Bulk SLM measurements for generated incidents, as `workflow.slm.attach` would add them.

`generate.generate_incidents` writes incidents straight into the table, skipping per-request
workflow; benchmarks of SLA tracking need their measurements too. For every open incident in a
range of Incident Numbers this attaches one row per applicable service target (the seeded
targets, else one default resolution target), in one `executemany`. Statuses start In Process;
the escalation pass run on every read turns them Warning or Missed as their dates pass.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox.forms.cmdb import MEASUREMENT
from sandbox.forms.incident import HELP_DESK
from sandbox.forms.selections import MEASUREMENT_STATUS
from sandbox.store import Store
from sandbox.workflow.slm import ServiceTarget, load_targets

DEFAULT_TARGET = ServiceTarget(
    id="SVT-GENERATED",
    title="Generated: resolve within 3 days",
    sla="Generated",
    measure="resolution",
    goal_seconds=3 * 86400,
)
OPEN = ("New", "Assigned", "In Progress", "Pending")
_IN = HELP_DESK.by_name
_OUT = (
    "Request ID",
    "Submitter",
    "Create Date",
    "Last Modified By",
    "Modified Date",
    "SLMId",
    "SVTInstanceID",
    "SVTTitle",
    "SLA Group",
    "Object ID 1",
    "ApplicationInstanceID",
    "MeasurementStatus",
    "GoalSchedGoalTime",
    "OverallStartTime",
    "SVTDueDate",
)


def _label(field: str, stored: Any) -> Any:
    selection = _IN[field].selection
    return selection.label(stored) if selection is not None and stored is not None else stored


def attach_measurements(
    store: Store, first: str, last: str, now: int, *, goal_seconds: int | None = None
) -> int:
    """Measurements for the open incidents numbered `first`..`last`; returns how many.

    `goal_seconds` replaces the seeded targets by one resolution target of that goal.
    """
    column = {
        name: _IN[name].column
        for name in (
            "Incident Number",
            "InstanceId",
            "Submit Date",
            "ServiceCI",
            "Priority",
            "Status",
        )
    }
    statuses = [_IN["Status"].selection.number(s) for s in OPEN]  # type: ignore[union-attr]
    incidents = store.select(
        f"SELECT {', '.join(str(c) for c in column.values())} FROM {HELP_DESK.table} "
        f"WHERE {column['Incident Number']} BETWEEN ? AND ? "
        f"AND {column['Status']} IN ({', '.join('?' for _ in statuses)})",
        [first, last, *statuses],
    )
    targets = load_targets(store) or [DEFAULT_TARGET]
    if goal_seconds is not None:
        targets = [
            replace(
                DEFAULT_TARGET,
                goal_seconds=goal_seconds,
                title=f"Generated: resolve within {goal_seconds // 3600} hours",
            )
        ]
    rows = []
    for number, instance, submitted, service, priority, _status in incidents:
        record = {"ServiceCI": service, "Priority": _label("Priority", priority)}
        chosen = [t for t in targets if t.applies_to(record)] or [DEFAULT_TARGET]
        rows.extend((number, instance, submitted, t) for t in chosen)
    if not rows:
        return 0
    key = store.reserve(MEASUREMENT.table, len(rows))
    slm = store.reserve("SLMId", len(rows))
    in_process = MEASUREMENT_STATUS.number("In Process")
    out = [MEASUREMENT.by_name[name].column for name in _OUT]
    values = [
        (
            f"{key + i:015d}",
            "generator",
            now,
            "generator",
            now,
            f"SLM{slm + i:012d}",
            t.id,
            t.title,
            t.sla,
            number,
            instance,
            in_process,
            t.goal_seconds,
            submitted,
            submitted + t.goal_seconds,
            submitted + t.goal_seconds * t.warning_percent // 100,
            t.measure,
        )
        for i, (number, instance, submitted, t) in enumerate(rows)
    ]
    with store.bulk_load(MEASUREMENT.table):
        store.insert_many(MEASUREMENT.table, [*map(str, out), "warn_at", "measure"], values)
    return len(values)
