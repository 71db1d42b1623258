"""Plans and actions: what a procedure decided, and why, before anything is written.

A procedure never writes. It returns a `Plan`: a list of `Action`s, each carrying its `Reason`
(the SMPM process, procedure and the rule or fact that fired). The executor in the runtime applies
the plan, or prints it for a dry run, and records every action in the audit log.

Invariants:
- An action's idempotency identity is (procedure, `trigger`, `step`). `trigger` names what the
  decision is about (an incident and the SLA threshold it crossed), never when it was taken, so
  a rerun of the same decision maps to the same key and writes nothing new.
- `Ref` lets a later action point at the record an earlier action of the same plan creates
  (link the incident to the problem investigation just registered).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connector.entities import Entity, RecordKind, Relation, WorkNote
from connector.enums import RelationType


class Reason(BaseModel):
    """Why an action is in the plan, in words an ITSM analyst recognises."""

    model_config = ConfigDict(frozen=True)

    process: str
    procedure: str
    rule: str

    def __str__(self) -> str:
        return f"{self.process} {self.procedure}: {self.rule}"


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ASSIGN = "assign"
    RELATE = "relate"
    ADD_NOTE = "add_note"
    NOTIFY = "notify"


class Ref(BaseModel):
    """The id of the record created by the action (`trigger`, `step`) of the same plan."""

    model_config = ConfigDict(frozen=True)

    trigger: str
    step: str

    def __str__(self) -> str:
        return f"<record created by {self.step}>"


class Action(BaseModel):
    """One write the procedure wants, with everything the executor needs to apply it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: ActionKind
    step: str
    trigger: str
    reason: Reason
    target_kind: RecordKind
    target_id: str | Ref | None = None
    changes: dict[str, Any] = Field(default_factory=dict)
    # Written along with `changes` where the platform keeps such a field (Remedy wants the
    # group's company and organisation beside the group; ServiceNow has no such fields).
    extras: dict[str, Any] = Field(default_factory=dict)
    # A nicety, not a need: where the platform's mapping cannot store it, it is skipped.
    optional: bool = False
    record: Entity | None = None
    relation: Relation | None = None
    relation_target: Ref | None = None
    note: WorkNote | None = None
    recipient: str | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Action:
        needed = {
            ActionKind.CREATE: self.record is not None,
            ActionKind.UPDATE: bool(self.changes) and self.target_id is not None,
            ActionKind.ASSIGN: bool(self.changes) and self.target_id is not None,
            ActionKind.RELATE: self.relation is not None,
            ActionKind.ADD_NOTE: self.note is not None,
            ActionKind.NOTIFY: bool(self.recipient and self.message),
        }
        if not needed[self.kind]:
            raise ValueError(f"a {self.kind.value} action lacks what it needs to be applied")
        return self

    def target_label(self) -> str:
        if self.kind is ActionKind.CREATE:
            return f"new {self.target_kind.value}"
        return f"{self.target_kind.value} {self.target_id}"

    def summary(self) -> str:
        """One line: what will change."""
        if self.kind is ActionKind.CREATE and self.record is not None:
            fields = self.record.model_dump(exclude_none=True, exclude={"correlation_id"})
            return "create " + ", ".join(f"{k}={_short(v)}" for k, v in fields.items())
        if self.kind in (ActionKind.UPDATE, ActionKind.ASSIGN):
            return ", ".join(f"{k} -> {_short(v)}" for k, v in self.changes.items())
        if self.kind is ActionKind.RELATE and self.relation is not None:
            rel = self.relation
            target = self.relation_target or rel.target_id
            return f"link {rel.relation_type.value} {rel.target_kind.value} {target}"
        if self.kind is ActionKind.ADD_NOTE and self.note is not None:
            return f"work note: {_short(self.note.summary or self.note.text, 70)}"
        return f"inform {self.recipient}: {_short(self.message, 70)}"


def _short(value: Any, width: int = 40) -> str:
    text = str(getattr(value, "value", value))
    return text if len(text) <= width else text[: width - 1] + "…"


def note_action(
    *,
    on: RecordKind,
    record: str | Ref | None,
    step: str,
    trigger: str,
    reason: Reason,
    summary: str,
    text: str,
) -> Action:
    """A work note on a record: how SMPM's "informs X" reaches X where they work."""
    return Action(
        kind=ActionKind.ADD_NOTE,
        step=step,
        trigger=trigger,
        reason=reason,
        target_kind=on,
        target_id=record,
        note=WorkNote(parent_kind=on, parent_id=str(record), summary=summary, text=text),
    )


def inform_actions(
    *,
    on: RecordKind,
    record: str,
    steps: tuple[str, str],
    trigger: str,
    reason: Reason,
    recipient: str,
    summary: str,
    note: str,
    message: str,
) -> tuple[Action, Action]:
    """SMPM's "informs X" about a record: a work note on the record, where the next person to
    open it sees it, and a notification to X; `steps` names the two (note, notification)."""
    return (
        note_action(
            on=on,
            record=record,
            step=steps[0],
            trigger=trigger,
            reason=reason,
            summary=summary,
            text=note,
        ),
        Action(
            kind=ActionKind.NOTIFY,
            step=steps[1],
            trigger=trigger,
            reason=reason,
            target_kind=on,
            target_id=record,
            recipient=recipient,
            message=message,
        ),
    )


def incident_link(
    incident: str,
    *,
    to: RecordKind,
    target: str | Ref,
    relation_type: RelationType,
    step: str,
    trigger: str,
    reason: Reason,
    optional: bool = False,
) -> Action:
    """A link from an incident request to another record (most often the problem investigation
    that caused it); `target` may be a record an earlier action of the plan creates. `optional`:
    a nicety the platform may not keep."""
    return Action(
        kind=ActionKind.RELATE,
        step=step,
        trigger=trigger,
        reason=reason,
        target_kind=RecordKind.INCIDENT,
        target_id=incident,
        relation=Relation(
            source_kind=RecordKind.INCIDENT,
            source_id=incident,
            target_kind=to,
            target_id=str(target),
            relation_type=relation_type,
        ),
        relation_target=target if isinstance(target, Ref) else None,
        optional=optional,
    )


class Finding(BaseModel):
    """What a procedure concluded about one record, acted on or not (for `smpm explain`)."""

    model_config = ConfigDict(frozen=True)

    record: str
    outcome: str
    because: str


class Plan(BaseModel):
    """Everything one procedure run decided."""

    procedure: str
    trigger: str
    actions: list[Action] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)

    def add(self, action: Action) -> None:
        self.actions.append(action)

    def note(self, record: str, outcome: str, because: str) -> None:
        self.findings.append(Finding(record=record, outcome=outcome, because=because))

    def merge(self, other: Plan) -> None:
        self.actions.extend(other.actions)
        self.findings.extend(other.findings)
