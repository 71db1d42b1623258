"""Problem Closure's impasse: reminding the problem coordinator of problems without a solution.

SMPM P4: "if it is clear that there is currently no practical means available to permanently
work around or remove the root cause, the problem coordinator updates the problem investigation
to indicate the impasse. Periodically, the problem coordinator will then check for new
possibilities and will ask for another analysis when it is likely that a new or different
approach or technology could provide a practical structural solution."

An open problem investigation is at an impasse when its status is one of `impasse_statuses`,
its status reason one of `impasse_reasons`, or (with `stalled_days`) it has not changed for
that many days and waits for no open change. Its coordinator (the problem's problem
coordinator, else the service's, else the coordinator of its coordinator group or assigned
group) is reminded: a work note on the problem, which carries `TAG`, and a notification through
the notify path. At most once per `reminder_days`: the last reminder note is read back, and
the trigger names the interval, so a rerun within it never reminds again (also where notes
cannot be read back, such as ServiceNow without read access to sys_journal_field).

On ServiceNow a work note updates the problem (`sys_updated_on`), so a problem at an impasse
only by `stalled_days` is reminded every `stalled_days` there, not every `reminder_days`;
mark impasses by status or status reason to be reminded on time on both platforms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.base import Connector
from connector.entities import Change, ProblemInvestigation, RecordKind, WorkNote
from connector.enums import ProblemStatus
from connector.filters import Field as F
from connector.filters import Filter, any_of
from procedures.directory import Directory
from procedures.plan import Plan, Reason, inform_actions
from procedures.problem.config import ProblemClosureConfig
from procedures.problem.links import ENDED, by_ids, changes_of, chunks
from procedures.registry import Context

PROCESS = "Problem Management"
PROCEDURE = "P4 Problem Closure"
TAG = "[smpm impasse reminder]"
OPEN_PROBLEM = [s for s in ProblemStatus if s.is_open]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Impasse:
    """A problem investigation at an impasse, why it counts as one, and its last reminder."""

    problem: ProblemInvestigation
    because: str
    reminded_at: datetime | None = None


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def because(
    problem: ProblemInvestigation, config: ProblemClosureConfig, now: datetime
) -> str | None:
    """Why this problem is at an impasse, or None when it is not (by status, reason, stall)."""
    if problem.status in config.impasse_statuses:
        return f"its status is {problem.status.value if problem.status else '-'}"
    if problem.status_reason and problem.status_reason in config.impasse_reasons:
        return f"its status reason is {problem.status_reason!r}"
    modified, days = problem.modified_at, config.stalled_days
    if days and modified is not None and now - modified >= timedelta(days=days):
        return f"it has not changed since {modified:%Y-%m-%d}"
    return None


# -- gathering ------------------------------------------------------------------------------------
def gather(ctx: Context, busy: set[str]) -> list[Impasse]:
    """Open problems at an impasse (not `busy` with a verification), with their last reminder."""
    config, c = ctx.config.problem.closure, ctx.connector
    where = _impasse_filter(config, ctx.now)
    if where is None:
        return []
    found = [
        p
        for p in c.find(ProblemInvestigation, F("status").one_of(*OPEN_PROBLEM) & where)
        if p.id and p.id not in busy
    ]
    marked = {str(p.id) for p in found if _marked(p, config)}
    waiting = _waiting_for_change(c, [str(p.id) for p in found if p.id not in marked])
    found = [p for p in found if p.id not in waiting]
    reminded = last_reminders(c, (str(p.id) for p in found))
    return [
        Impasse(p, why, reminded.get(str(p.id)))
        for p in found
        if (why := because(p, config, ctx.now)) is not None
    ]


def _marked(problem: ProblemInvestigation, config: ProblemClosureConfig) -> bool:
    return problem.status in config.impasse_statuses or (
        problem.status_reason in config.impasse_reasons
    )


def _impasse_filter(config: ProblemClosureConfig, now: datetime) -> Filter | None:
    parts: list[Filter] = []
    if config.impasse_statuses:
        parts.append(F("status").one_of(*config.impasse_statuses))
    if config.impasse_reasons:
        parts.append(F("status_reason").one_of(*config.impasse_reasons))
    if config.stalled_days:
        parts.append(F("modified_at") < now - timedelta(days=config.stalled_days))
    return any_of(*parts) if parts else None


def _waiting_for_change(c: Connector, problem_ids: list[str]) -> set[str]:
    """Stalled problems waiting for an open change are not at an impasse: the change is work."""
    related = changes_of(c, problem_ids)
    changes = by_ids(c, Change, {i for ids in related.values() for i in ids})
    return {
        pid
        for pid, ids in related.items()
        if any(ch.status not in ENDED for i in ids if (ch := changes.get(i)))
    }


def last_reminders(c: Connector, problem_ids: Iterable[str]) -> dict[str, datetime]:
    """Problem id -> when its last impasse reminder note was written."""
    last: dict[str, datetime] = {}
    for chunk in chunks(problem_ids):
        where = F("parent_id").one_of(*chunk) & F("text").contains(TAG)
        for note in c.find(WorkNote, where, within=RecordKind.PROBLEM):
            when = note.created_at
            if when is not None and (note.parent_id not in last or when > last[note.parent_id]):
                last[note.parent_id] = when
    return last


# -- deciding -------------------------------------------------------------------------------------
def remind_all(
    impasses: Iterable[Impasse],
    directory: Directory,
    config: ProblemClosureConfig,
    now: datetime,
    plan: Plan,
) -> None:
    for item in impasses:
        remind(item, directory, config, now, plan)


def coordinator(problem: ProblemInvestigation, directory: Directory) -> str | None:
    """Who coordinates this problem: its own field, the service's, or a group's coordinator."""
    return (
        problem.problem_coordinator
        or directory.service_role(problem.service, "problem_coordinator")
        or directory.group_coordinator(problem.coordinator_group)
        or directory.group_coordinator(problem.assigned_group)
    )


def remind(
    item: Impasse, directory: Directory, config: ProblemClosureConfig, now: datetime, plan: Plan
) -> None:
    """A reminder, unless one was sent within `reminder_days`."""
    problem, pid = item.problem, str(item.problem.id)
    interval = timedelta(days=config.reminder_days)
    if item.reminded_at is not None and now - item.reminded_at < interval:
        plan.note(
            pid,
            "not reminded",
            f"{item.because}; reminded {item.reminded_at:%Y-%m-%d %H:%M} UTC, next after "
            f"{item.reminded_at + interval:%Y-%m-%d %H:%M} UTC",
        )
        return
    person = coordinator(problem, directory)
    why = (
        f"{item.because}: an impasse; the problem coordinator periodically checks for new "
        "possibilities and asks for another analysis when a new or different approach or "
        "technology could provide a practical structural solution"
    )
    if person is None:
        plan.note(pid, "not reminded", f"{why}; but no problem coordinator is known for it")
        return
    trigger = f"problem:{pid}:impasse:{(now - EPOCH) // interval}"
    rsn = reason(why)
    for action in inform_actions(
        on=RecordKind.PROBLEM,
        record=str(problem.id),
        steps=("impasse-reminder-note", "impasse-reminder"),
        trigger=trigger,
        reason=rsn,
        recipient=person,
        summary=f"Impasse reminder: {person} informed",
        note=f"{TAG} {rsn}.",
        message=f"{pid} ({problem.summary}): {why}.",
    ):
        plan.add(action)
    plan.note(pid, f"{person} reminded", why)
