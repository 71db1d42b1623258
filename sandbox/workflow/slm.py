"""Service level measurements on incidents [reference 4.8].

When an incident is filed, one `SLM:Measurement` row is attached per matching service target
(`Object ID 1` = the Incident Number, `ApplicationInstanceID` = its InstanceId). Response
targets stop when the incident is first responded to; resolution targets stop when it is
resolved, pause while it is Pending (the due date moves on by the paused time), and restart
when it is re-opened. As AR escalations would, reads of SLM:Measurement first bring the status
up to date: Warning once `warning_percent` of the goal has passed (50% by default, as BMC
documents), Missed once the due date has, Met or Missed when the target stops.
Simplification: changing an incident's service or priority does not re-attach targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.forms import Form
from sandbox.forms.cmdb import MEASUREMENT
from sandbox.forms.selections import MEASUREMENT_STATUS
from sandbox.store import Store
from sandbox.tx import Tx
from sandbox.workflow.base import Hooks, Record

TARGETS_META = "service_targets"
_COL = {name: field.column for name, field in MEASUREMENT.by_name.items()}


@dataclass(frozen=True)
class ServiceTarget:
    id: str
    title: str
    sla: str
    measure: str  # "response" or "resolution"
    goal_seconds: int
    warning_percent: int = 50
    services: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()

    def applies_to(self, incident: Record) -> bool:
        return (not self.services or incident.get("ServiceCI") in self.services) and (
            not self.priorities or incident.get("Priority") in self.priorities
        )


def save_targets(store: Store, targets: list[ServiceTarget]) -> None:
    store.set_meta(TARGETS_META, [t.__dict__ for t in targets])


def load_targets(store: Store) -> list[ServiceTarget]:
    out = []
    for saved in store.get_meta(TARGETS_META, []):
        saved.update(services=tuple(saved["services"]), priorities=tuple(saved["priorities"]))
        out.append(ServiceTarget(**saved))
    return out


def attach(tx: Tx, incident: Record) -> None:
    """Attach a measurement for every service target that applies to a new incident."""
    start = incident["Submit Date"]
    for target in load_targets(tx.store):
        if not target.applies_to(incident):
            continue
        values = {
            "SLMId": tx.next_number("SLMId", "SLM"),
            "SVTInstanceID": target.id,
            "SVTTitle": target.title,
            "SLA Group": target.sla,
            "Object ID 1": incident["Incident Number"],
            "ApplicationInstanceID": incident["InstanceId"],
            "MeasurementStatus": "In Process",
            "GoalSchedGoalTime": target.goal_seconds,
            "OverallStartTime": start,
            "SVTDueDate": start + target.goal_seconds,
        }
        warn_at = start + target.goal_seconds * target.warning_percent // 100
        tx.insert(MEASUREMENT, values, {"warn_at": warn_at, "measure": target.measure})
    incident_changed(tx, None, incident)


def incident_changed(tx: Tx, old: Record | None, incident: Record) -> None:
    """Stop, pause, resume or restart the incident's measurements after a change."""
    before = (old or {}).get("Status")
    for row in _measurements(tx, incident["Incident Number"]):
        changes, internal = _next_state(tx.now, row, incident, before)
        if changes or internal:
            row_changes = {_COL[k]: _db(k, v) for k, v in changes.items()}
            tx.store.update(
                MEASUREMENT.table, "rowid = ?", [row["rowid"]], {**row_changes, **internal}
            )


def _next_state(
    now: int, row: dict[str, Any], incident: Record, before: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    status = incident["Status"]
    running = row["OverallStopTime"] is None and row["MeasurementStatus"] != "Detached"
    if status == "Cancelled":
        return ({"MeasurementStatus": "Detached"}, {}) if running else ({}, {})
    if row["measure"] == "response":
        at = incident.get("Responded Date")
        return (_stop(row, at), {}) if running and at else ({}, {})
    if status in ("Resolved", "Closed"):
        at = incident.get("Last Resolved Date") or incident.get("Closed Date") or now
        return (_stop(row, at), {"paused_at": None}) if running else ({}, {})
    if not running and before in ("Resolved", "Closed"):
        return {
            "OverallStopTime": None,
            "OverallElapsedTime": None,
            "MeasurementStatus": "In Process",
        }, {}
    if status == "Pending" and running and row["paused_at"] is None:
        return {"MeasurementStatus": "Pending"}, {"paused_at": now}
    if status != "Pending" and row["paused_at"] is not None:
        shift = now - row["paused_at"]
        return (
            {"SVTDueDate": row["SVTDueDate"] + shift, "MeasurementStatus": "In Process"},
            {"paused_at": None, "warn_at": row["warn_at"] + shift},
        )
    return {}, {}


def _stop(row: dict[str, Any], at: int) -> dict[str, Any]:
    return {
        "OverallStopTime": at,
        "OverallElapsedTime": at - row["OverallStartTime"],
        "MeasurementStatus": "Met" if at <= row["SVTDueDate"] else "Missed",
    }


def _db(name: str, value: Any) -> Any:
    if name == "MeasurementStatus" and value is not None:
        return MEASUREMENT_STATUS.number(value)
    return value


def _measurements(tx: Tx, number: str) -> list[dict[str, Any]]:
    names = ("OverallStopTime", "OverallStartTime", "SVTDueDate", "MeasurementStatus")
    columns = ", ".join(_COL[n] for n in names)
    rows = tx.store.select(
        f"SELECT rowid, measure, paused_at, warn_at, {columns} FROM {MEASUREMENT.table} "
        f"WHERE {_COL['Object ID 1']} = ?",
        [number],
    )
    out = []
    for row in rows:
        item = dict(zip(("rowid", "measure", "paused_at", "warn_at", *names), row, strict=True))
        item["MeasurementStatus"] = MEASUREMENT_STATUS.label(item["MeasurementStatus"])
        out.append(item)
    return out


def refresh(store: Store, now: int) -> None:
    """The escalation pass: running measurements turn Warning, then Missed, as time passes."""
    n = MEASUREMENT_STATUS.number
    status, stop, due, start = (
        _COL[k] for k in ("MeasurementStatus", "OverallStopTime", "SVTDueDate", "OverallStartTime")
    )
    running = f"{stop} IS NULL AND paused_at IS NULL AND {status} IN (?, ?, ?)"
    live = (n("Attached"), n("In Process"), n("Warning"))
    table = MEASUREMENT.table
    store.execute(
        f"UPDATE {table} SET {status} = ? WHERE {running} AND {due} < ?", [n("Missed"), *live, now]
    )
    store.execute(
        f"UPDATE {table} SET {status} = ? WHERE {running} AND warn_at <= ?",
        [n("Warning"), *live, now],
    )
    store.execute(
        f"UPDATE {table} SET {_COL['OverallElapsedTime']} = ? - {start} "
        f"WHERE {stop} IS NULL AND paused_at IS NULL AND {status} != ?",
        [now, n("Detached")],
    )


class Measurements(Hooks):
    forms = ("SLM:Measurement",)

    def before_read(self, tx: Tx, form: Form) -> None:
        refresh(tx.store, tx.now)
