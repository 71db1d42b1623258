"""Incident Management, Procedure 6, Incident Request Closure.

SMPM: "After a user has received an incident request completion notification, he/she reviews the
solution information ... If the user considers the solution acceptable, he/she does not need to
take any action. If the solution is not acceptable, however, the user reopens the incident
request, thus requesting a better solution."

Scheduled, for every resolved incident request:
- the requester rejected the solution (a customer-communication work note after the resolution
  whose text matches `rejection_keywords`) -> reopened: back to In Progress with its assignment,
  with a work note quoting the requester, on the same record so its history is kept;
- otherwise, resolved longer than `close_after_days` ago -> closed (silence is acceptance).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus, NoteType
from connector.filters import Field as F
from procedures.plan import Action, ActionKind, Plan, Reason, note_action
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P6 Incident Request Closure"
NAME = "incident.closure"


class ClosureConfig(BaseModel):
    """`[incident.closure]`: how long a resolution waits for the requester, and what a 'no' says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    close_after_days: float = Field(default=5, gt=0)
    rejection_keywords: list[str] = Field(
        default_factory=lambda: [
            "not fixed",
            "still broken",
            "still not working",
            "reject",
            "reopen",
        ]
    )
    closure_reason: str | None = Field(default=None, description="status reason set on closing")

    def rejects(self, text: str) -> str | None:
        lowered = text.casefold()
        return next(
            (k for k in self.rejection_keywords if re.search(re.escape(k.casefold()), lowered)),
            None,
        )


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def gather(ctx: Context) -> list[tuple[IncidentRequest, list[WorkNote]]]:
    """Resolved requests with the customer notes written since the earliest of their resolutions.

    One listing of resolved requests and one of customer notes, joined here: not a query per
    request.
    """
    incidents = list(ctx.connector.find(IncidentRequest, F("status") == IncidentStatus.RESOLVED))
    dates = [i.resolved_at for i in incidents if i.resolved_at is not None]
    by_parent: dict[str, list[WorkNote]] = {}
    if incidents:
        where = F("note_type") == NoteType.CUSTOMER_COMMUNICATION
        if dates:
            where = where & (F("created_at") >= min(dates))
        for note in ctx.connector.find(WorkNote, where, within=RecordKind.INCIDENT):
            by_parent.setdefault(note.parent_id, []).append(note)
    return [(i, by_parent.get(str(i.id), [])) for i in incidents]


def decide(
    items: Iterable[tuple[IncidentRequest, list[WorkNote]]],
    config: ClosureConfig,
    now: datetime,
    trigger: str,
) -> Plan:
    plan = Plan(procedure=NAME, trigger=trigger)
    for incident, notes in items:
        review(incident, notes, config, now, plan)
    return plan


def review(
    incident: IncidentRequest,
    notes: list[WorkNote],
    config: ClosureConfig,
    now: datetime,
    plan: Plan,
) -> None:
    resolved_at = incident.resolved_at
    after = [
        n
        for n in notes
        if resolved_at is None or n.created_at is None or n.created_at >= resolved_at
    ]
    for note in after:
        keyword = config.rejects(f"{note.summary or ''} {note.text}")
        if keyword:
            _reopen(incident, note, keyword, plan)
            return
    if resolved_at is None:
        plan.note(str(incident.id), "left resolved", "no resolution date is recorded")
        return
    due = resolved_at + timedelta(days=config.close_after_days)
    if now < due:
        plan.note(str(incident.id), "waiting", f"the requester has until {due:%Y-%m-%d %H:%M} UTC")
        return
    why = (
        f"resolved {resolved_at:%Y-%m-%d %H:%M} UTC and not reopened within "
        f"{config.close_after_days:g} days: the requester accepted the solution"
    )
    changes: dict[str, object] = {"status": IncidentStatus.CLOSED}
    if config.closure_reason:
        changes["status_reason"] = config.closure_reason
    plan.add(
        Action(
            kind=ActionKind.UPDATE,
            step="close",
            trigger=f"incident:{incident.id}:resolved:{resolved_at.isoformat()}",
            reason=reason(why),
            target_kind=RecordKind.INCIDENT,
            target_id=incident.id,
            changes=changes,
        )
    )
    plan.note(str(incident.id), "close", why)


def _reopen(incident: IncidentRequest, note: WorkNote, keyword: str, plan: Plan) -> None:
    resolved = incident.resolved_at.isoformat() if incident.resolved_at else "unknown"
    trigger = f"incident:{incident.id}:resolved:{resolved}"
    why = (
        f"the requester rejected the solution ({note.author or 'customer'} wrote "
        f"'{keyword}'); the request is reopened on the same record so its history is kept"
    )
    plan.add(
        Action(
            kind=ActionKind.UPDATE,
            step="reopen",
            trigger=trigger,
            reason=reason(why),
            target_kind=RecordKind.INCIDENT,
            target_id=incident.id,
            changes={"status": IncidentStatus.IN_PROGRESS},
        )
    )
    plan.add(
        note_action(
            on=RecordKind.INCIDENT,
            record=incident.id,
            step="reopen-note",
            trigger=trigger,
            reason=reason(why),
            summary="Reopened: requester rejected the solution",
            text=f"{PROCESS} {PROCEDURE}: {why}. Requester's words: {note.text[:500]}",
        )
    )
    plan.note(str(incident.id), "reopen", why)


def run(ctx: Context) -> Plan:
    return decide(gather(ctx), ctx.config.incident.closure, ctx.now, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=6,
    title="Incident Request Closure",
    triggers=("schedule (hourly)", "manual"),
    run=run,
)
