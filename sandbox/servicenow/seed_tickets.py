"""The seed's tickets on the ServiceNow face: incidents, problems, changes, their relations and
knowledge articles (the organisation is seeding.py's).

An incident is filed New at its `opened` moment (so its SLAs attach then), moved to its seeded
state when it was responded to (`responded`, else ten minutes after opening, as on the AR face),
and gets its notes as journal entries at their moments, in time order. Vocabulary:

| neutral | ServiceNow |
|---|---|
| impact extensive, significant / moderate / minor | 1 / 2 / 3 |
| urgency critical / high, medium / low | 1 / 2 / 3 |
| incident new, assigned / in_progress / pending / resolved / closed / cancelled | 1/2/3/6/7/8 |
| problem draft / under_review, request_for_authorization, assigned | 101 / 102 |
| problem under_investigation, pending / completed / rejected, closed, cancelled | 103/106/107 |
| change timing emergency, expedited / standard, no_impact / others | emergency/standard/normal |
| knowledge draft / proposed / published / retired, cancelled | draft/review/published/retired |

Relations: an incident `caused_by` a problem sets `incident.problem_id` (and the problem's
`first_reported_by_task` when empty); `caused_by` a change sets `caused_by`; `related_to` a
change sets `rfc`; `duplicate_of` an incident sets `parent_incident`; a problem `related_to` or
`caused_by` a change sets `problem.rfc`; `causes` is `caused_by` the other way round.
Other combinations have no field in the base system and are not written.
"""

from __future__ import annotations

from typing import Any

from sandbox.seed_format import Seed
from sandbox.servicenow.records import Actor
from sandbox.servicenow.seeding import Seeding
from sandbox.servicenow.values import format_time

IMPACT = {"extensive": "1", "significant": "1", "moderate": "2", "minor": "3"}
URGENCY = {"critical": "1", "high": "2", "medium": "2", "low": "3"}
INCIDENT_STATE = {"new": "1", "assigned": "1", "in_progress": "2", "pending": "3"}
INCIDENT_STATE |= {"resolved": "6", "closed": "7", "cancelled": "8"}
HOLD_REASON = {"client_hold": "1", "client_action_required": "1"}
HOLD_REASON |= {"supplier_delivery": "4", "third_party_vendor": "4"}
CLOSE_CODE = {"temporary_corrective_action": "Workaround provided"}
CONTACT = {"phone": "phone", "voice_mail": "phone", "email": "email", "web": "self-service"}
CONTACT |= {"self_service": "self-service", "walk_in": "walk-in"}
CONTACT |= {"systems_management": "monitoring", "event": "event"}  # the instance's additions
PROBLEM_STATE = {"draft": "101", "under_review": "102", "request_for_authorization": "102"}
PROBLEM_STATE |= {"assigned": "102", "under_investigation": "103", "pending": "103"}
PROBLEM_STATE |= {"completed": "106", "rejected": "107", "closed": "107", "cancelled": "107"}
CHANGE_STATE = {"draft": "-5", "request_for_authorization": "-3", "request_for_change": "-4"}
CHANGE_STATE |= {"planning_in_progress": "-4", "scheduled_for_review": "-4"}
CHANGE_STATE |= {"scheduled_for_approval": "-3", "scheduled": "-2"}
CHANGE_STATE |= {"implementation_in_progress": "-1", "pending": "-1", "completed": "0"}
CHANGE_STATE |= {"rejected": "4", "closed": "3", "cancelled": "4"}
CHANGE_TYPE = {"emergency": "emergency", "expedited": "emergency", "standard": "standard"}
CHANGE_TYPE |= {"no_impact": "standard"}
RISK = {1: "4", 2: "4", 3: "3", 4: "2", 5: "1"}  # BMC Risk Level 1 (lowest) .. 5 (highest)
KB_STATE = {"draft": "draft", "proposed": "review", "published": "published"}
KB_STATE |= {"retired": "retired", "cancelled": "retired"}
RESPONSE_DELAY = 600


class TicketSeeding(Seeding):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tickets: dict[str, tuple[str, str]] = {}  # ref -> (table, sys_id)

    def apply(self, seed: Seed) -> None:
        super().apply(seed)
        for item in seed.incidents:
            self._incident(item)
        for item in seed.problems:
            self._problem(item)
        for item in seed.changes:
            self._change(item)
        for relation in seed.relations:
            self._relate(relation.source, relation.target, relation.type)
        for article in seed.knowledge_articles:
            self._article(article)

    def update(self, table: str, sys_id: str, values: dict[str, Any], actor: Actor) -> None:
        body = {k: v for k, v in values.items() if v is not None}
        self.records.update(table, sys_id, body, actor, display=False)

    def person(self, login: str | None) -> Actor:
        """The seed person `login` as the author of a write (admin when none)."""
        return self.at(None, login, self.users.get(login, "")) if login else self.at(None)

    # -- incidents --------------------------------------------------------------------------------
    def _incident(self, item: Any) -> None:
        values = {
            "short_description": item.summary,
            "description": item.details,
            "caller_id": self.users.get(item.customer or ""),
            "business_service": self.items.get(item.service or ""),
            "cmdb_ci": self.items.get(item.ci or ""),
            "impact": IMPACT[item.impact],
            "urgency": URGENCY[item.urgency],
            "u_service_type": item.service_type,
            "u_event_key": item.event_key,
            "contact_type": CONTACT.get(item.source),
            "assignment_group": self.groups.get(item.assigned_group or ""),
            "assigned_to": self.users.get(item.assignee or ""),
            "state": "1",
        }
        sys_id = self.create("incident", values, self.at(item.opened))
        if item.ref:
            self.tickets[item.ref] = ("incident", sys_id)
        opened = self.at(item.opened).now
        events: list[tuple[int, Actor, dict[str, Any]]] = []
        state = INCIDENT_STATE[item.status]
        if state != "1":
            when = self.at(item.responded).now if item.responded else None
            when = when if when is not None else min(self.now, opened + RESPONSE_DELAY)
            events.append(
                (when, Actor("admin", self.at(None).user_id, when), self._state(item, state))
            )
        for note in item.notes:
            at = self.at(note.at or item.opened).now
            author = self.person(note.author)
            kind = (
                "comments" if note.public or note.kind == "customer_communication" else "work_notes"
            )
            events.append((at, Actor(author.user_name, author.user_id, at), {kind: note.text}))
        for _, actor, change in sorted(events, key=lambda e: e[0]):
            self.update("incident", sys_id, change, actor)

    @staticmethod
    def _state(item: Any, state: str) -> dict[str, Any]:
        values: dict[str, Any] = {"state": state}
        if state == "3":
            values["hold_reason"] = HOLD_REASON.get(item.status_reason or "")
        if state in ("6", "7"):
            values["close_code"] = CLOSE_CODE.get(item.status_reason or "", "Solution provided")
            values["close_notes"] = item.resolution or "Resolved."
        return values

    # -- problems and changes ----------------------------------------------------------------------
    def _problem(self, item: Any) -> None:
        values = {
            "short_description": item.summary,
            "description": item.details,
            "impact": IMPACT[item.impact],
            "urgency": URGENCY[item.urgency],
            "state": PROBLEM_STATE[item.status],
            "business_service": self.items.get(item.service or ""),
            "cmdb_ci": self.items.get(item.ci or ""),
            "assignment_group": self.groups.get(item.assigned_group or ""),
            "assigned_to": self.users.get(item.assignee or ""),
            "workaround": item.workaround,
        }
        sys_id = self.create("problem", values, self.at(item.opened))
        if item.ref:
            self.tickets[item.ref] = ("problem", sys_id)

    def _change(self, item: Any) -> None:
        values = {
            "short_description": item.summary,
            "description": item.details,
            "justification": item.reason,
            "impact": IMPACT[item.impact],
            "urgency": URGENCY[item.urgency],
            "state": CHANGE_STATE[item.status],
            "type": CHANGE_TYPE.get(item.timing, "normal"),
            "risk": RISK[item.risk_level],
            "business_service": self.items.get(item.service or ""),
            "assignment_group": self.groups.get(item.assigned_group or ""),
            "assigned_to": self.users.get(item.coordinator or ""),
            "start_date": self._moment(item.scheduled_start),
            "end_date": self._moment(item.scheduled_end),
        }
        sys_id = self.create("change_request", values, self.at(item.opened))
        if item.ref:
            self.tickets[item.ref] = ("change_request", sys_id)

    def _moment(self, when: str | None) -> str | None:
        return format_time(self.at(when).now) if when else None

    # -- relations and knowledge ---------------------------------------------------------------
    def _relate(self, source: str, target: str, kind: str) -> None:
        if kind == "causes":
            source, target, kind = target, source, "caused_by"
        (table, sys_id), (other, other_id) = self.tickets[source], self.tickets[target]
        field = {
            ("incident", "problem", "caused_by"): "problem_id",
            ("incident", "problem", "related_to"): "problem_id",
            ("incident", "change_request", "caused_by"): "caused_by",
            ("incident", "change_request", "related_to"): "rfc",
            ("incident", "incident", "duplicate_of"): "parent_incident",
            ("problem", "change_request", "related_to"): "rfc",
            ("problem", "change_request", "caused_by"): "rfc",
            ("problem", "problem", "duplicate_of"): "duplicate_of",
        }.get((table, other, kind))
        if field is None:
            return
        self.update(table, sys_id, {field: other_id}, self.at(None))
        if field == "problem_id":
            found = self.sn.get("problem", other_id)
            if found is not None and not found.get("first_reported_by_task"):
                self.update("problem", other_id, {"first_reported_by_task": sys_id}, self.at(None))

    def _article(self, item: Any) -> None:
        values = {
            "short_description": item.title,
            "text": f"<p>{item.title}</p>",
            "workflow_state": KB_STATE[item.status],
            "author": self.users.get(item.author or ""),
            "ownership_group": self.groups.get(item.proposing_group or item.assigned_group or ""),
            "source": self.tickets[item.source][1] if item.source else None,
        }
        self.create("kb_knowledge", values, self.at(item.opened))
