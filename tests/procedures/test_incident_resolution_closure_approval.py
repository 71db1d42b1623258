"""Incident Management P4 (recurring workarounds), P6 (closure) and P7 (solution approval)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.entities import KnowledgeArticle, ProblemInvestigation, RecordKind, WorkNote
from connector.enums import ArticleStatus, IncidentStatus, NoteType, ProblemStatus
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.incident import closure, resolution, solution_approval
from procedures.plan import ActionKind, Ref
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory

WORKAROUND = {
    "status": IncidentStatus.RESOLVED,
    "status_reason": "Temporary Corrective Action",
    "service": "Online Banking",
    "ci": "web-01",
    "resolved_at": NOW - timedelta(hours=2),
    "reported_at": NOW - timedelta(hours=5),
}


# -- P4 ------------------------------------------------------------------------------------------
def test_recurring_workaround_registers_a_problem_and_informs_its_coordinator() -> None:
    """'if the incident request was resolved using a workaround, and ... is likely to recur, he/she
    informs the problem coordinator of the affected service'"""
    plan = resolution.decide(
        [(incident(id="INC1", **WORKAROUND), 3, None)],
        directory(),
        resolution.ResolutionConfig(min_similar=2),
        "t",
    )
    kinds = [a.kind for a in plan.actions]
    assert kinds == [ActionKind.CREATE, ActionKind.RELATE, ActionKind.ADD_NOTE]
    create, relate, note = plan.actions
    assert isinstance(create.record, ProblemInvestigation)
    assert create.record.problem_coordinator == "paula"
    assert create.record.investigation_driver == "Re-Occurring Incidents"
    assert relate.relation_target == Ref(trigger=create.trigger, step="register-problem")
    assert note.target_id == Ref(trigger=create.trigger, step="register-problem")
    assert "likely to recur" in str(note.reason)


def test_existing_candidate_problem_gets_the_note_and_the_link() -> None:
    """An open problem investigation for the service is reused, not duplicated."""
    problem = ProblemInvestigation(
        id="PBI9", service="Online Banking", status=ProblemStatus.ASSIGNED
    )
    plan = resolution.decide(
        [(incident(id="INC1", **WORKAROUND), 5, problem)],
        directory(),
        resolution.ResolutionConfig(),
        "t",
    )
    assert [a.kind for a in plan.actions] == [ActionKind.RELATE, ActionKind.ADD_NOTE]
    assert plan.actions[0].relation and plan.actions[0].relation.target_id == "PBI9"
    assert plan.actions[1].note and plan.actions[1].note.parent_id == "PBI9"


def test_two_recurrences_in_one_run_share_one_new_problem() -> None:
    """Two requests on the same CI in one run register one problem, linked to both."""
    items = [
        (incident(id="INC1", **WORKAROUND), 3, None),
        (incident(id="INC2", **WORKAROUND), 3, None),
    ]
    plan = resolution.decide(items, directory(), resolution.ResolutionConfig(), "t")
    assert [a.kind for a in plan.actions].count(ActionKind.CREATE) == 1


def test_isolated_workaround_is_not_escalated() -> None:
    """Below `min_similar` the incident is not 'likely to recur'."""
    plan = resolution.decide(
        [(incident(id="INC1", **WORKAROUND), 1, None)],
        directory(),
        resolution.ResolutionConfig(min_similar=2),
        "t",
    )
    assert plan.actions == []
    assert "1 similar requests" in plan.findings[0].because


def test_gather_counts_similar_requests_on_the_same_ci() -> None:
    """Similar = same CI (and category) within the window, not counting the request itself."""
    fake = FakeConnector().add(
        incident(id="INC1", **WORKAROUND),
        incident(id="INC2", ci="web-01", reported_at=NOW - timedelta(days=3)),
        incident(id="INC3", ci="web-01", reported_at=NOW - timedelta(days=60)),
        incident(id="INC4", ci="db-01", reported_at=NOW - timedelta(days=1)),
    )
    items = resolution.gather(Context(fake, ProceduresConfig(), NOW))
    assert [(i.id, n) for i, n, _ in items] == [("INC1", 1)]


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
