"""Incident Management, Procedure 7, Solution Approval.

SMPM: "After a group coordinator has received a notification that a new solution has been
proposed, he/she reviews the proposed solution information. If the group coordinator agrees ...
he/she activates it ... On the other hand, if the group coordinator does not believe that the
proposed solution provides any benefit, he/she ensures that it does not become available."

The machine's part is the routing: every proposed solution (a knowledge article awaiting publish
approval) goes to the group coordinator of the group that proposed it, who then approves or
rejects it in the ITSM.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.entities import KnowledgeArticle, RecordKind
from connector.enums import ArticleStatus
from connector.filters import Field as F
from procedures.directory import Directory
from procedures.plan import Action, ActionKind, Plan, Reason
from procedures.registry import Context, Procedure

PROCESS = "Incident Management"
PROCEDURE = "P7 Solution Approval"
NAME = "incident.solution_approval"


def reason(rule: str) -> Reason:
    return Reason(process=PROCESS, procedure=PROCEDURE, rule=rule)


def decide(articles: Iterable[KnowledgeArticle], directory: Directory, trigger: str) -> Plan:
    plan = Plan(procedure=NAME, trigger=trigger)
    for article in articles:
        route_for_approval(article, directory, plan)
    return plan


def route_for_approval(article: KnowledgeArticle, directory: Directory, plan: Plan) -> None:
    label = str(article.id)
    group = article.proposing_group or article.assigned_group
    coordinator = directory.group_coordinator(group)
    if coordinator is None:
        plan.note(label, "not routed", f"no group coordinator is known for {group or '(no group)'}")
        return
    if article.assignee == coordinator:
        plan.note(label, "already with the coordinator", f"{coordinator} already reviews it")
        return
    why = (
        f"solution '{article.title}' was proposed for general use by {group}; its group "
        f"coordinator {coordinator} decides whether it is activated"
    )
    trigger = f"article:{article.id}:proposed"
    plan.add(
        Action(
            kind=ActionKind.ASSIGN,
            step="route-for-approval",
            trigger=trigger,
            reason=reason(why),
            target_kind=RecordKind.KNOWLEDGE_ARTICLE,
            target_id=article.id,
            changes={"assigned_group": group, "assignee": coordinator},
        )
    )
    plan.add(
        Action(
            kind=ActionKind.NOTIFY,
            step="notify-coordinator",
            trigger=trigger,
            reason=reason(why),
            target_kind=RecordKind.KNOWLEDGE_ARTICLE,
            target_id=article.id,
            recipient=coordinator,
            message=f"Please review proposed solution {article.id} '{article.title}'.",
        )
    )
    plan.note(label, f"routed to {coordinator}", why)


def for_record(ctx: Context, record_id: str) -> Plan:
    """P7 for one article, when the ITSM says it changed (webhook)."""
    article = ctx.connector.get(KnowledgeArticle, record_id)
    if article.status is not ArticleStatus.PROPOSED:
        return Plan(procedure=NAME, trigger=ctx.trigger)
    return decide([article], ctx.directory(), ctx.trigger)


def run(ctx: Context) -> Plan:
    articles = ctx.connector.find(KnowledgeArticle, F("status") == ArticleStatus.PROPOSED)
    directory = ctx.directory()
    return decide(articles, directory, ctx.trigger)


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=7,
    title="Solution Approval",
    triggers=("schedule (every 15 minutes)", "manual"),
    run=run,
)
