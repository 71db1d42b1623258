"""Incident Management P6 (closure) and P7 (solution approval); P4: test_incident_resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.entities import KnowledgeArticle, RecordKind, WorkNote
from connector.enums import ArticleStatus, IncidentStatus, NoteType
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.incident import closure, solution_approval
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory

# -- P6 ------------------------------------------------------------------------------------------
CLOSURE = closure.ClosureConfig(close_after_days=5)


@pytest.mark.parametrize(
    ("resolved_days_ago", "notes", "expected"),
    [
        (6, [], [("close", {"status": IncidentStatus.CLOSED})]),
        (2, [], []),
        (
            2,
            [("The problem is still broken after the fix", 1)],
            [("reopen", {"status": IncidentStatus.IN_PROGRESS}), ("reopen-note", {})],
        ),
        (6, [("Thanks, all good now", 1)], [("close", {"status": IncidentStatus.CLOSED})]),
        (6, [("still broken", -1)], [("close", {"status": IncidentStatus.CLOSED})]),
    ],
    ids=[
        "silence-closes",
        "too-early",
        "rejection-reopens",
        "thanks-closes",
        "complaint-before-resolution-ignored",
    ],
)
def test_closure_decisions(resolved_days_ago: int, notes: list, expected: list) -> None:
    """'If the user considers the solution acceptable, he/she does not need to take any action.
    If the solution is not acceptable ... the user reopens the incident request'"""
    resolved_at = NOW - timedelta(days=resolved_days_ago)
    request = incident(
        id="INC1", status=IncidentStatus.RESOLVED, resolved_at=resolved_at, customer="Peter"
    )
    written = [
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id="INC1",
            text=text,
            note_type=NoteType.CUSTOMER_COMMUNICATION,
            author="Peter",  # the requester: only their words count
            created_at=resolved_at + timedelta(hours=h),
        )
        for text, h in notes
    ]
    plan = closure.decide([(request, written)], CLOSURE, NOW, "t")
    assert [(a.step, a.changes) for a in plan.actions] == expected


def test_closure_gathers_customer_notes_in_one_listing() -> None:
    """Notes are read once for all resolved requests, not once per request."""
    fake = FakeConnector().add(
        incident(id="INC1", status=IncidentStatus.RESOLVED, resolved_at=at("2026-11-20 10:00")),
        incident(id="INC2", status=IncidentStatus.RESOLVED, resolved_at=at("2026-11-24 10:00")),
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id="INC2",
            text="not fixed",
            note_type=NoteType.CUSTOMER_COMMUNICATION,
            created_at=at("2026-11-24 12:00"),
        ),
    )
    items = closure.gather(Context(fake, ProceduresConfig(), NOW))
    assert fake.reads == 2
    assert [(i.id, len(n)) for i, n in items] == [("INC1", 0), ("INC2", 1)]


# -- P7 ------------------------------------------------------------------------------------------
def test_proposed_solution_goes_to_the_group_coordinator() -> None:
    """'After a group coordinator has received a notification that a new solution has been
    proposed, he/she reviews the proposed solution information.'"""
    article = KnowledgeArticle(
        id="KBA1",
        title="Reset token",
        status=ArticleStatus.PROPOSED,
        proposing_group="Application Support",
    )
    plan = solution_approval.decide([article], directory(), "t")
    assign, notify = plan.actions
    assert assign.changes == {"assigned_group": "Application Support", "assignee": "alice"}
    assert notify.recipient == "alice"


def test_solution_already_with_the_coordinator_is_left_alone() -> None:
    article = KnowledgeArticle(
        id="KBA1",
        status=ArticleStatus.PROPOSED,
        proposing_group="Application Support",
        assignee="alice",
    )
    plan = solution_approval.decide([article], directory(), "t")
    assert plan.actions == []
    assert plan.findings[0].outcome == "already with the coordinator"
