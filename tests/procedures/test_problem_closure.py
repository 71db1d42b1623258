"""Problem Management, Procedure 4, Problem Closure: verification of the change, and impasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connector.entities import (
    Change,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    WorkNote,
)
from connector.enums import ChangeStatus, ProblemStatus, RelationType
from connector.testing import FakeConnector, at, incident
from procedures.config import ProceduresConfig
from procedures.plan import ActionKind, Plan
from procedures.problem import closure as p4
from procedures.problem import impasse
from procedures.problem.closure import Verification
from procedures.problem.config import ProblemClosureConfig, ProblemConfig
from procedures.registry import Context
from smpm.executor import Executor
from smpm.store import open_engine
from tests.procedures.conftest import NOW, directory

CONFIG = ProblemClosureConfig(verification_days=14, stalled_days=None)
PROBLEM = ProblemInvestigation(
    id="PBI7",
    summary="Failovers on db-cluster-01",
    status=ProblemStatus.PENDING,
    service="Online Banking",
    ci="db-cluster-01",
    modified_at=at("2026-11-01 09:00"),
)


def change(status: ChangeStatus = ChangeStatus.COMPLETED, **fields: Any) -> Change:
    """A change related to PBM7; completed ones ended 'Successful' unless told otherwise."""
    done = status in (ChangeStatus.COMPLETED, ChangeStatus.CLOSED)
    base: dict[str, Any] = {
        "id": "CRQ3",
        "summary": "Replace the cluster interconnect",
        "status": status,
        "status_reason": "Successful" if done else None,
        "completed_at": at("2026-11-01 12:00") if done else None,
        "modified_at": at("2026-11-01 12:00"),
    }
    return Change(**{**base, **fields})


def failure(id: str, reported: str, **fields: Any) -> IncidentRequest:
    base = {
        "summary": "Failover",
        "ci": "db-cluster-01",
        "service": "Online Banking",
        "operational_category_1": "Failure",
    }
    return incident(id=id, reported_at=at(reported), **{**base, **fields})


def related(
    source: str,
    target: str,
    kind: RecordKind,
    relation_type: RelationType = RelationType.RELATED_TO,
) -> Relation:
    source_kind = RecordKind.PROBLEM if kind is RecordKind.CHANGE else RecordKind.INCIDENT
    return Relation(
        source_kind=source_kind,
        source_id=source,
        target_kind=kind,
        target_id=target,
        relation_type=relation_type,
    )


def decide(*items: Verification, config: ProblemClosureConfig = CONFIG) -> Plan:
    return p4.decide(items, config, NOW, "test")


@dataclass(frozen=True)
class Case:
    id: str
    smpm: str
    verification: Verification
    kinds: tuple[ActionKind, ...]
    outcome: str
    because: str


RECURRED = (failure("INC9", "2026-11-20 08:00"),)
CASES = [
    Case(
        "change-completed-no-recurrence-closes",
        "If the implementation appears to have solved the problem, the problem coordinator "
        "closes it",
        Verification(PROBLEM, (change(),)),
        (ActionKind.UPDATE, ActionKind.UPDATE, ActionKind.ADD_NOTE),
        "close",
        "change CRQ3 is completed (Successful), implemented 2026-11-01 12:00 UTC; no alike "
        "incident request in 14 days",
    ),
    Case(
        "recurrence-reopens-with-a-note",
        "if ... the implementation did not fix the problem, the problem coordinator ... "
        "reassigns the problem investigation to a specialist within his/her group",
        Verification(PROBLEM, (change(),), RECURRED),
        (ActionKind.UPDATE, ActionKind.ADD_NOTE),
        "reopen",
        "1 alike incident request(s) since: it did not fix the problem",
    ),
    Case(
        "change-not-implemented-reopens",
        "if the change was not implemented ... reassigns the problem investigation",
        Verification(PROBLEM, (change(ChangeStatus.CANCELLED),)),
        (ActionKind.UPDATE, ActionKind.ADD_NOTE),
        "reopen",
        "change CRQ3 is cancelled: no change was implemented successfully",
    ),
    Case(
        "change-not-completed-waits",
        "After a change has been implemented ... (not yet implemented: nothing to verify)",
        Verification(PROBLEM, (change(ChangeStatus.IMPLEMENTATION_IN_PROGRESS),)),
        (),
        "waiting for the change",
        "change CRQ3 is implementation_in_progress not implemented yet",
    ),
    Case(
        "one-of-two-changes-still-open-waits",
        "After a change has been implemented (every related change)",
        Verification(
            PROBLEM, (change(), change(ChangeStatus.SCHEDULED, id="CRQ4", completed_at=None))
        ),
        (),
        "waiting for the change",
        "change CRQ4 is scheduled",
    ),
    Case(
        "within-the-verification-window-waits",
        "the problem coordinator verifies whether or not the change has actually solved the "
        "problem (the verification window is still open)",
        Verification(PROBLEM, (change(completed_at=at("2026-11-20 12:00")),)),
        (),
        "verifying",
        "no alike incident request until 2026-12-04 12:00",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_problem_closure_decision(case: Case) -> None:
    """Each case quotes the SMPM sentence it checks (see `case.smpm`)."""
    plan = decide(case.verification)
    assert tuple(a.kind for a in plan.actions) == case.kinds
    [finding] = plan.findings
    assert (finding.record, finding.outcome) == ("PBI7", case.outcome)
    assert case.because in finding.because
    for action in plan.actions:
        assert str(action.reason).startswith("Problem Management P4 Problem Closure: ")
        assert (
            action.trigger
            == f"problem:PBI7:verify:{'+'.join(str(c.id) for c in case.verification.changes)}"
        )


# A change counts as the structural solution only when it ended successfully: Remedy records how
# in the change's Status Reason (Successful, Successful with Issues, Unsuccessful, Backed Out),
# ServiceNow in its close_code (successful, successful_issues, unsuccessful); smpm reads both as
# the change's status_reason. "With issues" is still implemented: whether it fixed the problem is
# what the verification window then shows.
OUTCOMES = [
    # (id, platform, status, status reason, outcome, because)
    ("remedy-successful", "remedy", "completed", "Successful", "close", "(Successful)"),
    (
        "remedy-successful-with-issues",
        "remedy",
        "closed",
        "Successful with Issues",
        "close",
        "(Successful with Issues)",
    ),
    ("servicenow-successful", "servicenow", "closed", "successful", "close", "(successful)"),
    (
        "servicenow-successful-issues",
        "servicenow",
        "closed",
        "successful_issues",
        "close",
        "(successful_issues)",
    ),
    (
        "remedy-backed-out-reopens",
        "remedy",
        "completed",
        "Backed Out",
        "reopen",
        "change CRQ3 is completed (Backed Out): no change was implemented successfully",
    ),
    (
        "remedy-unsuccessful-reopens",
        "remedy",
        "completed",
        "Unsuccessful",
        "reopen",
        "change CRQ3 is completed (Unsuccessful): no change was implemented successfully",
    ),
    (
        "servicenow-unsuccessful-reopens",
        "servicenow",
        "closed",
        "unsuccessful",
        "reopen",
        "change CRQ3 is closed (unsuccessful): no change was implemented successfully",
    ),
    (
        "servicenow-review-without-close-code-waits",
        "servicenow",
        "completed",
        None,
        "waiting for the change's outcome",
        "change CRQ3 is completed: it ended without a status reason that says it succeeded",
    ),
    (
        "remedy-final-review-required-waits",
        "remedy",
        "completed",
        "Final Review Required",
        "waiting for the change's outcome",
        "change CRQ3 is completed (Final Review Required): it ended without a status reason",
    ),
]


@pytest.mark.parametrize(
    ("platform", "status", "status_reason", "outcome", "because"),
    [c[1:] for c in OUTCOMES],
    ids=[c[0] for c in OUTCOMES],
)
def test_only_a_change_that_ended_successfully_is_the_structural_solution(
    platform: str, status: str, status_reason: str | None, outcome: str, because: str
) -> None:
    """'After a change has been implemented to provide a structural solution for the problem ...
    if the change was not implemented, or if the implementation did not fix the problem, the
    problem coordinator ... reassigns the problem investigation': a backed-out or unsuccessful
    change never closes the problem with a note saying it solved it."""
    done = change(ChangeStatus(status), status_reason=status_reason)
    plan = decide(Verification(PROBLEM, (done,)))
    [finding] = plan.findings
    assert (finding.outcome, because in finding.because) == (outcome, True), finding.because
    steps = {"close": ["complete", "close", "close-note"], "reopen": ["reopen", "reopen-note"]}
    assert [a.step for a in plan.actions] == steps.get(outcome, [])
    if outcome == "reopen":
        assert plan.actions[0].changes == {"status": ProblemStatus.ASSIGNED}
        note = plan.actions[1].note
        assert note is not None and "solved" not in note.text


def test_a_backed_out_change_beside_a_successful_one_is_not_the_solution() -> None:
    """The problem is verified against the change that was implemented successfully: its
    completion starts the verification window, not the backed-out one's."""
    backed_out = change(id="CRQ4", status_reason="Backed Out", completed_at=at("2026-11-20 12:00"))
    plan = decide(Verification(PROBLEM, (change(), backed_out)))
    [finding] = plan.findings
    assert finding.outcome == "close"
    assert "implemented 2026-11-01 12:00 UTC" in finding.because


def test_the_outcomes_that_count_are_settings() -> None:
    """A site whose changes end with other status reasons names them."""
    config = CONFIG.model_copy(
        update={"successful_reasons": ["Fixed"], "unsuccessful_reasons": ["Rolled back"]}
    )
    fixed = decide(Verification(PROBLEM, (change(status_reason="Fixed"),)), config=config)
    rolled = decide(Verification(PROBLEM, (change(status_reason="Rolled back"),)), config=config)
    assert [f.outcome for f in (*fixed.findings, *rolled.findings)] == ["close", "reopen"]


def test_a_reason_meaning_both_outcomes_is_refused_at_load() -> None:
    """Bad config gets a clear error naming the keys and the value."""
    with pytest.raises(ValueError, match=r"both name \['Done'\]"):
        ProblemClosureConfig(successful_reasons=["Done"], unsuccessful_reasons=["Done", "Failed"])


def test_closing_goes_completed_then_closed_with_the_resolution() -> None:
    config = CONFIG.model_copy(update={"close_status_reason": "fix_applied"})
    complete, close, note = decide(Verification(PROBLEM, (change(),)), config=config).actions
    assert complete.changes == {"status": ProblemStatus.COMPLETED, "status_reason": "fix_applied"}
    assert complete.extras["resolution"].startswith("Problem Management P4 Problem Closure: ")
    assert close.changes == {"status": ProblemStatus.CLOSED}
    assert note.note is not None and note.note.parent_kind is RecordKind.PROBLEM


def test_a_completed_problem_is_only_closed() -> None:
    done = PROBLEM.model_copy(update={"status": ProblemStatus.COMPLETED})
    plan = decide(Verification(done, (change(),)))
    assert [a.step for a in plan.actions] == ["close", "close-note"]


def test_the_reopen_note_says_which_incidents_recurred() -> None:
    """'reopen it for another analysis (with a work note saying which incidents recurred)'."""
    recurred = (*RECURRED, failure("INC10", "2026-11-22 08:00", summary="Failover again"))
    reopen, note = decide(Verification(PROBLEM, (change(),), recurred)).actions
    assert reopen.changes == {"status": ProblemStatus.ASSIGNED}
    assert note.note is not None
    assert "Recurred: INC9 (2026-11-20: Failover), INC10 (2026-11-22: Failover again)" in (
        note.note.text
    )


# -- gathering ------------------------------------------------------------------------------------
def context(fake: FakeConnector, config: ProblemClosureConfig = CONFIG, **kw: Any) -> Context:
    settings = ProceduresConfig(problem=ProblemConfig(closure=config))
    return Context(fake, settings, NOW, "test", _directory=directory(), **kw)


def seeded(*extra: Any) -> FakeConnector:
    return FakeConnector().add(
        PROBLEM,
        change(),
        related("PBI7", "CRQ3", RecordKind.CHANGE),
        failure("INC1", "2026-10-20 08:00"),
        related("INC1", "PBI7", RecordKind.PROBLEM),
        *extra,
    )


def test_gather_finds_the_problem_of_an_ended_change_and_what_recurred() -> None:
    """Alike requests (same CI and categorisation as the linked ones) reported since the change
    count; older ones, other categorisations and other CIs do not."""
    fake = seeded(
        failure("INC2", "2026-10-25 08:00"),  # before the change
        failure("INC3", "2026-11-10 08:00"),  # recurred
        failure("INC4", "2026-11-11 08:00", operational_category_1="Request"),
        failure("INC5", "2026-11-12 08:00", ci="web-01"),
    )
    [found] = p4.gather(context(fake))
    assert found.problem.id == "PBI7"
    assert [c.id for c in found.changes] == ["CRQ3"]
    assert [i.id for i in found.recurred] == ["INC3"]


# With no incident request linked, a recurrence is a request like the problem: on its CI (or its
# service when it names no CI) *and* of its operational categorisation. A request on the CI of
# another kind (a password reset on a failover problem's service) is no recurrence; when the
# problem has no categorisation to tell them apart, the requests since are left to the problem
# coordinator to judge, neither reopening nor closing the problem.
FAILOVER = PROBLEM.model_copy(update={"operational_category_1": "Failure"})
UNCATEGORISED_SERVICE = PROBLEM.model_copy(update={"ci": None})
RESET = {"summary": "Password reset", "ci": None, "operational_category_1": "Request"}
NO_LINKS = [
    # (id, problem, request reported since the change, recurred, unjudged)
    ("same-ci-and-categorisation-recurs", FAILOVER, failure("INC3", "2026-11-10 08:00"), 1, 0),
    (
        "same-ci-other-categorisation-does-not",
        FAILOVER,
        failure("INC3", "2026-11-10 08:00", **{**RESET, "ci": "db-cluster-01"}),
        0,
        0,
    ),
    (
        "a-password-reset-on-the-service-does-not",
        FAILOVER.model_copy(update={"ci": None}),
        failure("INC3", "2026-11-10 08:00", **RESET),
        0,
        0,
    ),
    (
        "same-service-and-categorisation-recurs",
        FAILOVER.model_copy(update={"ci": None}),
        failure("INC3", "2026-11-10 08:00", ci=None),
        1,
        0,
    ),
    (
        "uncategorised-problem-leaves-a-request-on-its-ci-unjudged",
        PROBLEM,
        failure("INC3", "2026-11-10 08:00", operational_category_1="Anything"),
        0,
        1,
    ),
    (
        "uncategorised-problem-leaves-a-request-on-its-service-unjudged",
        UNCATEGORISED_SERVICE,
        failure("INC3", "2026-11-10 08:00", **RESET),
        0,
        1,
    ),
    (
        "a-request-on-another-service-is-neither",
        UNCATEGORISED_SERVICE,
        failure("INC3", "2026-11-10 08:00", **{**RESET, "service": "Payroll"}),
        0,
        0,
    ),
]


@pytest.mark.parametrize(
    ("problem", "since", "recurred", "unjudged"),
    [c[1:] for c in NO_LINKS],
    ids=[c[0] for c in NO_LINKS],
)
def test_without_linked_requests_a_recurrence_is_a_request_like_the_problem(
    problem: ProblemInvestigation, since: IncidentRequest, recurred: int, unjudged: int
) -> None:
    """'the problem coordinator verifies whether or not the change has actually solved the
    problem': only a request like the problem says it did not."""
    fake = FakeConnector().add(problem, change(), related("PBI7", "CRQ3", RecordKind.CHANGE))
    fake.add(since)
    [found] = p4.gather(context(fake))
    assert (len(found.recurred), len(found.unjudged)) == (recurred, unjudged)


def test_requests_nobody_can_tell_apart_are_left_to_the_problem_coordinator() -> None:
    """Neither 'did not fix the problem' (no reopening) nor 'appears to have solved' (no
    closing, even past the verification window): the finding names the requests."""
    seen = (failure("INC3", "2026-11-10 08:00", **RESET),)
    plan = decide(Verification(UNCATEGORISED_SERVICE, (change(),), unjudged=seen))
    assert plan.actions == []
    [finding] = plan.findings
    assert finding.outcome == "left to the problem coordinator"
    assert "INC3 (2026-11-10: Password reset)" in finding.because
    assert "no categorisation" in finding.because


RELATIONS = [
    # (id, how the problem investigation is related to the change, taken as its solution)
    ("related-to-is-the-solution", RelationType.RELATED_TO, True),
    ("caused-by-is-not", RelationType.CAUSED_BY, False),
    ("causes-is-not", RelationType.CAUSES, False),
]


@pytest.mark.parametrize(
    ("relation_type", "solution"), [c[1:] for c in RELATIONS], ids=[c[0] for c in RELATIONS]
)
def test_only_the_change_related_as_the_solution_is_verified(
    relation_type: RelationType, solution: bool
) -> None:
    """'After a change has been implemented to provide a structural solution for the problem':
    a change the problem investigation was caused by (Remedy association 'Caused By') is no
    structural solution (ServiceNow's problem `rfc` reads as related_to)."""
    fake = FakeConnector().add(
        PROBLEM, change(), related("PBI7", "CRQ3", RecordKind.CHANGE, relation_type)
    )
    found = p4.gather(context(fake))
    assert [[c.id for c in v.changes] for v in found] == ([["CRQ3"]] if solution else [])


def test_a_change_the_problem_was_caused_by_is_left_out_beside_its_solution() -> None:
    cause = change(id="CRQ1", status_reason="Backed Out")
    fake = FakeConnector().add(
        PROBLEM,
        change(),
        cause,
        related("PBI7", "CRQ3", RecordKind.CHANGE),
        related("PBI7", "CRQ1", RecordKind.CHANGE, RelationType.CAUSED_BY),
    )
    [found] = p4.gather(context(fake))
    assert [c.id for c in found.changes] == ["CRQ3"]


def test_problems_not_in_a_candidate_status_and_old_changes_are_left_alone() -> None:
    closed = PROBLEM.model_copy(update={"id": "PBI8", "status": ProblemStatus.CLOSED})
    old = change(id="CRQ9", modified_at=at("2026-01-01 00:00"))
    fake = FakeConnector().add(
        closed,
        change(),
        related("PBI8", "CRQ3", RecordKind.CHANGE),
        PROBLEM,
        old,
        related("PBI7", "CRQ9", RecordKind.CHANGE),
    )
    assert p4.gather(context(fake)) == []


def test_a_problem_settled_by_an_earlier_run_is_not_read_again() -> None:
    fake = seeded()
    found = p4.gather(context(fake, settled=set))
    assert found == []


def test_the_run_closes_after_the_window_and_a_rerun_writes_nothing(tmp_path: Path) -> None:
    fake = seeded()
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    report = Executor(fake, engine).apply(p4.run(context(fake)))
    assert [o.outcome for o in report.outcomes] == ["applied"] * 3
    assert fake.get(ProblemInvestigation, "PBI7").status is ProblemStatus.CLOSED
    writes = len(fake.writes)
    again = p4.run(context(fake))
    assert again.actions == []
    assert len(fake.writes) == writes
    engine.dispose()


# -- impasse --------------------------------------------------------------------------------------
IMPASSE = ProblemClosureConfig(
    impasse_statuses=[ProblemStatus.PENDING],
    impasse_reasons=["No Practical Solution"],
    stalled_days=60,
    reminder_days=14,
)
STUCK = PROBLEM.model_copy(update={"id": "PBI3", "problem_coordinator": "bob"})


def reminder(problem: str, when: str) -> WorkNote:
    return WorkNote(
        parent_kind=RecordKind.PROBLEM,
        parent_id=problem,
        text=f"{impasse.TAG} Problem Management P4 Problem Closure: ...",
        created_at=at(when),
    )


def remind(problem: ProblemInvestigation, *extra: Any, now: datetime = NOW) -> Plan:
    fake = FakeConnector().add(problem, *extra)
    settings = ProceduresConfig(problem=ProblemConfig(closure=IMPASSE))
    ctx = Context(fake, settings, now, "test", _directory=directory())
    return p4.run(ctx)


IMPASSES = [
    (
        "by-status",
        "the problem coordinator updates the problem investigation to indicate the impasse. "
        "Periodically, the problem coordinator will then check for new possibilities",
        STUCK,
        (),
        "bob reminded",
        "its status is pending: an impasse; the problem coordinator periodically checks",
    ),
    (
        "by-status-reason",
        "updates the problem investigation to indicate the impasse (a status reason)",
        STUCK.model_copy(
            update={"status": ProblemStatus.ASSIGNED, "status_reason": "No Practical Solution"}
        ),
        (),
        "bob reminded",
        "its status reason is 'No Practical Solution'",
    ),
    (
        "stalled",
        "Periodically ... check for new possibilities (no progress for stalled_days)",
        STUCK.model_copy(
            update={"status": ProblemStatus.ASSIGNED, "modified_at": at("2026-09-01 00:00")}
        ),
        (),
        "bob reminded",
        "it has not changed since 2026-09-01",
    ),
    (
        "reminded-within-the-interval",
        "Periodically (not more than once per reminder interval)",
        STUCK,
        (reminder("PBI3", "2026-11-20 10:00"),),
        "not reminded",
        "reminded 2026-11-20 10:00 UTC, next after 2026-12-04 10:00 UTC",
    ),
    (
        "reminded-an-interval-ago",
        "Periodically (again after the reminder interval)",
        STUCK,
        (reminder("PBI3", "2026-11-10 10:00"), reminder("PBI3", "2026-10-01 10:00")),
        "bob reminded",
        "its status is pending",
    ),
    (
        "the-service-s-coordinator-when-the-problem-names-none",
        "the problem coordinator (of the service)",
        PROBLEM.model_copy(update={"id": "PBI3"}),
        (),
        "paula reminded",
        "its status is pending",
    ),
]


@pytest.mark.parametrize(
    ("problem", "extra", "outcome", "because"),
    [c[2:] for c in IMPASSES],
    ids=[c[0] for c in IMPASSES],
)
def test_impasse_reminder_decision(
    problem: ProblemInvestigation, extra: tuple[Any, ...], outcome: str, because: str
) -> None:
    plan = remind(problem, *extra)
    [finding] = plan.findings
    assert (finding.record, finding.outcome) == ("PBI3", outcome)
    assert because in finding.because
    kinds = () if outcome == "not reminded" else (ActionKind.ADD_NOTE, ActionKind.NOTIFY)
    assert tuple(a.kind for a in plan.actions) == kinds


def test_the_reminder_is_a_note_and_a_notification_to_the_coordinator() -> None:
    note, notify = remind(STUCK).actions
    assert note.note is not None and note.note.text.startswith(impasse.TAG)
    assert (notify.recipient, notify.target_id) == ("bob", "PBI3")
    assert notify.message is not None
    assert notify.message.startswith("PBI3 (Failovers on db-cluster-01): its status is pending")
    interval = int(NOW.timestamp() // (14 * 86400))  # the 14-day interval `now` falls in
    assert note.trigger == notify.trigger == f"problem:PBI3:impasse:{interval}"


def test_a_stalled_problem_waiting_for_an_open_change_is_not_at_an_impasse() -> None:
    stalled = STUCK.model_copy(
        update={"status": ProblemStatus.ASSIGNED, "modified_at": at("2026-09-01 00:00")}
    )
    plan = remind(
        stalled,
        change(ChangeStatus.SCHEDULED, modified_at=at("2026-09-01 00:00")),
        related("PBI3", "CRQ3", RecordKind.CHANGE),
    )
    assert plan.actions == [] and plan.findings == []


def test_an_impasse_reminder_goes_out_once_per_interval(tmp_path: Path) -> None:
    """A rerun the same day sends nothing (the trigger names the interval, and the note is read
    back); the next interval reminds again."""
    fake = FakeConnector().add(STUCK)
    settings = ProceduresConfig(problem=ProblemConfig(closure=IMPASSE))
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    sent: list[str] = []

    def notify(recipient: str, message: str, action: Any) -> None:
        sent.append(recipient)

    def apply(now: datetime) -> None:
        plan = p4.run(Context(fake, settings, now, "test", _directory=directory()))
        Executor(fake, engine, notifier=notify, clock=lambda: now).apply(plan)

    apply(NOW)
    fake.notes[-1] = fake.notes[-1].model_copy(update={"created_at": NOW})  # as the ITSM stamps
    apply(NOW.replace(hour=18))
    assert sent == ["bob"]
    later = at("2026-12-10 10:00")
    apply(later)
    assert sent == ["bob", "bob"]
    engine.dispose()


def test_without_a_coordinator_nobody_is_reminded() -> None:
    lonely = STUCK.model_copy(update={"problem_coordinator": None, "service": None})
    [finding] = remind(lonely).findings
    assert finding.because.endswith("but no problem coordinator is known for it")


def test_where_notes_cannot_be_read_back_the_interval_still_holds(tmp_path: Path) -> None:
    """ServiceNow without read access to sys_journal_field answers no notes: the trigger names
    the interval, so the executor still sends one reminder per interval."""
    fake = FakeConnector().add(STUCK)
    settings = ProceduresConfig(problem=ProblemConfig(closure=IMPASSE))
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    sent: list[str] = []

    def notify(recipient: str, message: str, action: Any) -> None:
        sent.append(recipient)

    for hour in (10, 18):
        fake.notes.clear()  # nothing to read back
        now = NOW.replace(hour=hour)
        plan = p4.run(Context(fake, settings, now, "test", _directory=directory()))
        assert len(plan.actions) == 2  # planned both times: the executor keeps the interval
        Executor(fake, engine, notifier=notify).apply(plan)
    assert sent == ["bob"]
    engine.dispose()
