"""Problem Management, Procedure 4, Problem Closure.

SMPM: "After a change has been implemented to provide a structural solution for the problem,
the problem coordinator verifies whether or not the change has actually solved the problem. If
the implementation appears to have solved the problem, the problem coordinator closes it. On the
other hand, if the change was not implemented, or if the implementation did not fix the
problem, the problem coordinator ... reassigns the problem investigation to a specialist within
his/her group." Impasses are `procedures.problem.impasse`.

The implementing change is a change related to the problem investigation as its solution: on
Remedy a "Related to" association on `PBM:Investigation Associations` (not one saying the problem
was "Caused By" the change), on ServiceNow the problem's `rfc` reference (see
`procedures.problem.links`). It "has been implemented" only when it ended successfully: completed
or closed with a status reason in `successful_reasons` (Remedy's Status Reason, ServiceNow's
close_code); one in `unsuccessful_reasons` (unsuccessful, backed out) was not implemented.

"Solved" means no incident request like the problem was reported since the change was
implemented, nor linked to the problem. Like: alike a request linked to the problem (Incident
Management P4's `Similarity`: the same CI, else service, and the first `category_tiers`
operational categorisation tiers); with none linked, on the problem's own CI (else service) and
of its own categorisation. A problem with neither linked requests nor a categorisation cannot
tell a recurrence from another request on its CI: the requests since are left to its problem
coordinator to judge (a finding), and it is neither reopened nor closed.

Scheduled. For each problem investigation in `candidate_statuses` related to a change that
ended (completed, closed, cancelled, rejected) within `lookback_days`:
1. a related change still open, or ended without a known outcome
                                      -> waiting for it; nothing;
2. none implemented successfully (cancelled, rejected, unsuccessful, backed out)
                                      -> "the change was not implemented": back to
                                         `reopen_status` with a work note;
3. implemented at T (the latest completion of its successful changes), and like requests
   reported since T                   -> "did not fix the problem": reopened, the work note
                                         naming the requests that recurred;
4. requests since T that cannot be judged (no links, no categorisation)
                                      -> left to the problem coordinator; nothing;
5. none, T + `verification_days` passed
                                      -> closed: Completed (with `close_status_reason`), then
                                         Closed, with a work note;
6. none yet                           -> verifying; nothing.
Each decision's trigger names the problem and its changes, so a rerun writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from connector.base import Connector
from connector.entities import Change, IncidentRequest, ProblemInvestigation, RecordKind
from connector.enums import ProblemStatus
from connector.filters import Field as F
from procedures.incident.resolution import Similarity
from procedures.plan import Action, ActionKind, Plan, Reason, note_action
from procedures.problem import impasse
from procedures.problem.config import ProblemClosureConfig
from procedures.problem.links import (
    ENDED,
    NOT_IMPLEMENTED,
    by_ids,
    changes_of,
    incidents_of,
    problems_naming,
)
from procedures.registry import Context, Procedure

PROCESS = "Problem Management"
PROCEDURE = "P4 Problem Closure"
NAME = "problem.closure"
NOT_IMPLEMENTED_SUMMARY = "Reopened: the structural solution was not implemented"


@dataclass(frozen=True)
class Verification:
    """A problem investigation, the changes related to it as its solution, and since the change:
    the like requests (`recurred`) and those nobody can tell from another (`unjudged`)."""

    problem: ProblemInvestigation
    changes: tuple[Change, ...]
    recurred: tuple[IncidentRequest, ...] = ()
    unjudged: tuple[IncidentRequest, ...] = ()

    @property
    def trigger(self) -> str:
        return f"problem:{self.problem.id}:verify:{'+'.join(str(c.id) for c in self.changes)}"


class Outcome(StrEnum):
    """How a related change ended, as far as Problem Closure is concerned."""

    OPEN = "open"
    NOT_IMPLEMENTED = "not implemented"  # cancelled, rejected, unsuccessful or backed out
    UNKNOWN = "unknown"  # completed or closed, without a status reason saying how
    SUCCESSFUL = "successful"


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def outcome(change: Change, config: ProblemClosureConfig) -> Outcome:
    """Its status, then its status reason: Completed says the work ended, not that it worked."""
    if change.status not in ENDED:
        return Outcome.OPEN
    if change.status in NOT_IMPLEMENTED or change.status_reason in config.unsuccessful_reasons:
        return Outcome.NOT_IMPLEMENTED
    if change.status_reason in config.successful_reasons:
        return Outcome.SUCCESSFUL
    return Outcome.UNKNOWN


def implemented_at(changes: Iterable[Change], config: ProblemClosureConfig) -> datetime | None:
    """When the structural solution was in place: the latest completion of the changes that
    ended successfully (None while any is open or of unknown outcome, or when none succeeded)."""
    outcomes = [(c, outcome(c, config)) for c in changes]
    if any(o in (Outcome.OPEN, Outcome.UNKNOWN) for _, o in outcomes):
        return None
    times = [
        c.completed_at or c.actual_end or c.modified_at
        for c, o in outcomes
        if o is Outcome.SUCCESSFUL
    ]
    known = [t for t in times if t is not None]
    return max(known) if known else None


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context) -> list[Verification]:
    """Problems related to recently ended changes, with all their changes and what recurred.

    Reads the ended changes, the problems naming them, those problems' other changes, and (for
    those not settled by an earlier run) the requests linked to them and alike ones since.
    """
    config, c = ctx.config.problem.closure, ctx.connector
    since = ctx.now - timedelta(days=config.lookback_days)
    ended = F("status").one_of(*ENDED) & (F("modified_at") >= since)
    changes = {ch.id: ch for ch in c.find(Change, ended) if ch.id}
    candidates = F("status").one_of(*config.candidate_statuses)
    problems = by_ids(c, ProblemInvestigation, problems_naming(c, changes), candidates)
    related = changes_of(c, problems)
    changes |= by_ids(c, Change, {i for ids in related.values() for i in ids} - set(changes))
    found = [
        Verification(p, tuple(changes[i] for i in sorted(related.get(k, ())) if i in changes))
        for k, p in problems.items()
    ]
    settled = ctx.settled(v.trigger for v in found)
    return recurrences(c, [v for v in found if v.trigger not in settled], config)


def recurrences(
    c: Connector, found: list[Verification], config: ProblemClosureConfig
) -> list[Verification]:
    """Each implemented problem with the like requests reported since its change."""
    when = {str(v.problem.id): implemented_at(v.changes, config) for v in found}
    done = {pid for pid, since in when.items() if since is not None}
    linked = incidents_of(c, done)
    incidents = by_ids(c, IncidentRequest, {i for ids in linked.values() for i in ids})
    out = []
    for v in found:
        since = when[str(v.problem.id)]
        if since is None:
            out.append(v)
            continue
        mine = [incidents[i] for i in sorted(linked.get(str(v.problem.id), ())) if i in incidents]
        out.append(_with_recurred(c, v, mine, since, config))
    return out


def _with_recurred(
    c: Connector,
    v: Verification,
    linked: list[IncidentRequest],
    since: datetime,
    config: ProblemClosureConfig,
) -> Verification:
    tiers = config.category_tiers
    kinds = {s for i in linked if (s := Similarity.of(i, tiers))}
    unjudged: dict[str | None, IncidentRequest] = {}
    own = Similarity.of(v.problem, tiers)
    if not kinds and own is not None:
        if own.names_a_symptom:
            kinds = {own}
        else:  # nothing tells a like request from another on its CI or service
            where = Similarity(own.field, own.name).filter() & (F("reported_at") >= since)
            unjudged = {i.id: i for i in c.find(IncidentRequest, where) if i.id}
    recurred = {i.id: i for i in linked if i.reported_at and i.reported_at >= since}
    for alike in sorted(kinds, key=lambda s: s.label):
        where = alike.filter() & (F("reported_at") >= since)
        recurred |= {i.id: i for i in c.find(IncidentRequest, where) if i.id}
    return Verification(v.problem, v.changes, _by_time(recurred), _by_time(unjudged))


def _by_time(found: dict[str | None, IncidentRequest]) -> tuple[IncidentRequest, ...]:
    return tuple(sorted(found.values(), key=lambda i: (i.reported_at is None, i.reported_at)))


# -- deciding -------------------------------------------------------------------------------------
def decide(
    verifications: Iterable[Verification],
    config: ProblemClosureConfig,
    now: datetime,
    trigger: str,
) -> Plan:
    """Closures and reopenings (pure; `now` is the run's time)."""
    plan = Plan(procedure=NAME, trigger=trigger)
    for v in verifications:
        verify(v, config, now, plan)
    return plan


def verify(v: Verification, config: ProblemClosureConfig, now: datetime, plan: Plan) -> None:
    """'After a change has been implemented': wait for every change's outcome first."""
    pid = str(v.problem.id)
    if not v.changes:
        plan.note(pid, "nothing to verify", "no change is related to it")
        return
    ended = {ch.id: outcome(ch, config) for ch in v.changes}
    waiting = [ch for ch in v.changes if ended[ch.id] is Outcome.OPEN]
    if waiting:
        plan.note(pid, "waiting for the change", f"{_changes(waiting)} not implemented yet")
        return
    unknown = [ch for ch in v.changes if ended[ch.id] is Outcome.UNKNOWN]
    if unknown:
        why = "it ended without a status reason that says it succeeded or failed"
        plan.note(pid, "waiting for the change's outcome", f"{_changes(unknown)}: {why}")
        return
    since = implemented_at(v.changes, config)
    if since is None:
        if all(o is Outcome.NOT_IMPLEMENTED for o in ended.values()):
            why = f"{_changes(v.changes)}: no change was implemented successfully"
            reopen(v, why, why, config, plan, summary=NOT_IMPLEMENTED_SUMMARY)
        else:
            plan.note(pid, "left as it is", f"{_changes(v.changes)} has no completion date")
        return
    solution = [ch for ch in v.changes if ended[ch.id] is Outcome.SUCCESSFUL]
    verify_solution(v, solution, since, config, now, plan)


def verify_solution(
    v: Verification,
    solution: list[Change],
    since: datetime,
    config: ProblemClosureConfig,
    now: datetime,
    plan: Plan,
) -> None:
    """'verifies whether or not the change has actually solved the problem'."""
    pid = str(v.problem.id)
    done = f"{_changes(solution)}, implemented {since:%Y-%m-%d %H:%M} UTC"
    if v.recurred:
        why = f"{done}; {len(v.recurred)} alike incident request(s) since"
        why = f"{why}: it did not fix the problem"
        reopen(v, why, f"{why}. Recurred: {_requests(v.recurred)}", config, plan)
        return
    if v.unjudged:
        plan.note(pid, "left to the problem coordinator", _unjudged(v, done))
        return
    due = since + timedelta(days=config.verification_days)
    if now < due:
        plan.note(pid, "verifying", f"{done}; no alike incident request until {due:%Y-%m-%d %H:%M}")
        return
    close(
        v, f"{done}; no alike incident request in {config.verification_days:g} days", config, plan
    )


def _changes(changes: Iterable[Change]) -> str:
    """'change CRQ3 is completed (Backed Out), change CRQ4 is scheduled'."""
    return ", ".join(
        f"change {c.id} is {c.status.value if c.status else 'without status'}"
        + (f" ({c.status_reason})" if c.status_reason and c.status in ENDED else "")
        for c in changes
    )


def _requests(requests: Iterable[IncidentRequest]) -> str:
    return ", ".join(
        f"{i.id} ({f'{i.reported_at:%Y-%m-%d}' if i.reported_at else 'undated'}: {i.summary})"
        for i in requests
    )


def _unjudged(v: Verification, done: str) -> str:
    subject = f"CI {v.problem.ci}" if v.problem.ci else f"service {v.problem.service}"
    return (
        f"{done}; {len(v.unjudged)} incident request(s) on {subject} since "
        f"({_requests(v.unjudged)}), but none is linked to the problem and it has no "
        "categorisation to tell a recurrence from another request: the problem coordinator "
        "verifies whether the change solved it"
    )


def reopen(
    v: Verification,
    why: str,
    text: str,
    config: ProblemClosureConfig,
    plan: Plan,
    summary: str = "Reopened: the structural solution did not solve the problem",
) -> None:
    """'reassigns the problem investigation to a specialist within his/her group'."""
    rule = f"{why}; the problem investigation is reassigned for another analysis"
    plan.add(_update(v, "reopen", {"status": config.reopen_status}, rule))
    plan.add(
        note_action(
            on=RecordKind.PROBLEM,
            record=v.problem.id,
            step="reopen-note",
            trigger=v.trigger,
            reason=reason(rule),
            summary=summary,
            text=f"{PROCESS} {PROCEDURE}: {text}. Please analyse it again.",
        )
    )
    plan.note(str(v.problem.id), "reopen", why)


def close(v: Verification, why: str, config: ProblemClosureConfig, plan: Plan) -> None:
    """'If the implementation appears to have solved the problem, the problem coordinator closes
    it': Completed (dated, with its reason and resolution), then Closed."""
    rule = f"{why}: the change solved the problem; it is closed"
    if v.problem.status is not ProblemStatus.COMPLETED:
        changes: dict[str, object] = {"status": ProblemStatus.COMPLETED}
        if config.close_status_reason:
            changes["status_reason"] = config.close_status_reason
        plan.add(_update(v, "complete", changes, rule, resolution=f"{PROCESS} {PROCEDURE}: {why}."))
    plan.add(_update(v, "close", {"status": ProblemStatus.CLOSED}, rule))
    plan.add(
        note_action(
            on=RecordKind.PROBLEM,
            record=v.problem.id,
            step="close-note",
            trigger=v.trigger,
            reason=reason(rule),
            summary="Closed: the structural solution solved the problem",
            text=f"{PROCESS} {PROCEDURE}: {rule}.",
        )
    )
    plan.note(str(v.problem.id), "close", why)


def _update(
    v: Verification, step: str, changes: dict[str, object], rule: str, resolution: str = ""
) -> Action:
    return Action(
        kind=ActionKind.UPDATE,
        step=step,
        trigger=v.trigger,
        reason=reason(rule),
        target_kind=RecordKind.PROBLEM,
        target_id=v.problem.id,
        changes=changes,
        # Remedy's problem form keeps no resolution field in the mapping; ServiceNow's fix_notes.
        extras={"resolution": resolution} if resolution else {},
    )


# -- entry points ---------------------------------------------------------------------------------
def run(ctx: Context) -> Plan:
    config = ctx.config.problem.closure
    found = gather(ctx)
    plan = decide(found, config, ctx.now, ctx.trigger)
    busy = {str(a.target_id) for a in plan.actions} | {str(v.problem.id) for v in found}
    impasses = impasse.gather(ctx, busy)
    if impasses:  # the directory is read only when someone may need reminding
        impasse.remind_all(impasses, ctx.directory(), config, ctx.now, plan)
    return plan


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=4,
    title="Problem Closure",
    triggers=("schedule (daily)", "manual"),
    run=run,
)
