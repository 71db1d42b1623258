"""Incident Management, Procedure 6, Incident Request Closure.

SMPM: "After a user has received an incident request completion notification, he/she reviews
the solution information of his/her incident request. The user then tries to verify the
solution. If the user considers the solution acceptable, he/she does not need to take any
action. If the solution is not acceptable, however, the user reopens the incident request, thus
requesting a better solution."

Scheduled, for every resolved incident request:
- the requester rejected the solution -> reopened: back to In Progress with its assignment, with
  a work note quoting the sentence that decided, on the same record so its history is kept.
  Only the user's words count: customer communications written after the resolution by the
  request's customer, not the assignee's ("if it is not fixed, reply and we will reopen") nor
  any other analyst's, and not work notes. How they are read (quoted text, negations,
  hypotheticals) is `procedures.incident.rejection`; the vocabulary is `[incident.closure]`;
- otherwise, resolved longer than `close_after_days` ago -> closed (silence is acceptance).

A user who reopens the request in the ITSM (or a service desk analyst who does it for him/her)
moves it out of Resolved: P6 then neither reads nor closes it. That explicit signal is better
than any reading of text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus, NoteType
from connector.filters import Field as F
from procedures.incident.config import ClosureConfig
from procedures.incident.rejection import Reading, Vocabulary, own_words, read
from procedures.plan import Action, ActionKind, Plan, Reason, note_action
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P6 Incident Request Closure"
NAME = "incident.closure"
QUOTE_LENGTH = 300  # of the sentence in a reason; the work note carries up to 500 characters


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
    vocabulary = config.vocabulary()
    for incident, notes in items:
        review(incident, notes, config, vocabulary, now, plan)
    return plan


def review(
    incident: IncidentRequest,
    notes: list[WorkNote],
    config: ClosureConfig,
    vocabulary: Vocabulary,
    now: datetime,
    plan: Plan,
) -> None:
    resolved_at = incident.resolved_at
    rejection = _rejection(incident, _users_words(incident, notes, plan), vocabulary, plan)
    if rejection is not None:
        _reopen(incident, *rejection, vocabulary, plan)
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


def _users_words(incident: IncidentRequest, notes: list[WorkNote], plan: Plan) -> list[WorkNote]:
    """The requester's customer communications since the resolution, oldest first.

    SMPM has the user, not the support staff, reopen: the assignee's own 'if it is not fixed,
    reply and we will reopen' and an analyst's notes are not the user's verdict."""
    resolved_at, customer = incident.resolved_at, (incident.customer or "").casefold()
    after = [
        n
        for n in notes
        if n.note_type is NoteType.CUSTOMER_COMMUNICATION
        and (resolved_at is None or n.created_at is None or n.created_at >= resolved_at)
    ]
    mine = [n for n in after if customer and (n.author or "").casefold() == customer]
    others = sorted({n.author or "(no author)" for n in after if n not in mine})
    if others:
        whose = f"the requester {incident.customer}" if customer else "no requester is recorded"
        plan.note(
            str(incident.id),
            "not read",
            f"customer communications after the resolution by {', '.join(others)} are not "
            f"the requester's ({whose}): only the user reopens the request",
        )
    return sorted(mine, key=lambda n: (n.created_at is None, n.created_at or datetime.min))


def _rejection(
    incident: IncidentRequest, words: list[WorkNote], vocabulary: Vocabulary, plan: Plan
) -> tuple[WorkNote, Reading] | None:
    """The latest sentence of the user's words that rejects the solution, with its note; the
    readings that found a rejection phrase but do not reject are explained in findings."""
    found: tuple[WorkNote, Reading] | None = None
    for note in words:
        for reading in read(note.text or note.summary or "", vocabulary):
            if reading.rejects:
                found = (note, reading)
            else:
                plan.note(
                    str(incident.id),
                    "not a rejection",
                    f"'{_quote(reading.sentence)}': '{reading.phrase}' ({reading.rule}) is "
                    f"cancelled by '{reading.cancelled_by}'",
                )
    return found


def _quote(sentence: str) -> str:
    flat = " ".join(sentence.split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1] + "\u2026"


def _reopen(
    incident: IncidentRequest,
    note: WorkNote,
    reading: Reading,
    vocabulary: Vocabulary,
    plan: Plan,
) -> None:
    resolved = incident.resolved_at.isoformat() if incident.resolved_at else "unknown"
    trigger = f"incident:{incident.id}:resolved:{resolved}"
    when = f" of {note.created_at:%Y-%m-%d %H:%M} UTC" if note.created_at else ""
    why = (
        f"the requester {note.author} rejected the solution in a customer communication{when}: "
        f"'{_quote(reading.sentence)}' ('{reading.phrase}', from {reading.rule}); the request "
        "is reopened on the same record so its history is kept"
    )
    words = " ".join(own_words(note.text or note.summary or "", vocabulary).split())
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
            text=f"{PROCESS} {PROCEDURE}: {why}. Requester's words: {words[:500]}",
        )
    )
    plan.note(str(incident.id), "reopen", why)


def run(ctx: Context) -> Plan:
    return decide(gather(ctx), ctx.config.incident.closure, ctx.now, ctx.trigger)


def for_record(ctx: Context, record_id: str) -> Plan:
    """P6 for one request, when the ITSM (or a portal) says it changed: a requester's reply is
    decided on at once rather than at the next scheduled run. Not resolved: nothing to do."""
    incident = ctx.connector.get(IncidentRequest, record_id)
    if incident.status is not IncidentStatus.RESOLVED:
        return Plan(procedure=NAME, trigger=ctx.trigger)
    where = (F("parent_id") == record_id) & (F("note_type") == NoteType.CUSTOMER_COMMUNICATION)
    notes = list(ctx.connector.find(WorkNote, where, within=RecordKind.INCIDENT))
    return decide([(incident, notes)], ctx.config.incident.closure, ctx.now, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=6,
    title="Incident Request Closure",
    triggers=("schedule (hourly)", "manual"),
    run=run,
)
