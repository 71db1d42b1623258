"""Incident Management, Procedure 7, Solution Approval.

SMPM: "After a group coordinator has received a notification that a new solution has been
proposed, he/she reviews the proposed solution information. If the group coordinator agrees ...
he/she activates it ... On the other hand, if the group coordinator does not believe that the
proposed solution provides any benefit, he/she ensures that it does not become available."

The machine's part is the routing: every proposed solution (a knowledge article awaiting publish
approval) goes to the group that proposed it, and that group's coordinator is informed; he/she
then approves or rejects it in the ITSM. Where the platform's mapping keeps an assignee for
articles (Remedy's RKM), the article is also assigned to the coordinator; where it keeps none
(ServiceNow's kb_knowledge, unless a site maps a column), the group and the notification carry
it. The plan differs per platform only through what the mapping keeps (`Connector.maps`).
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


def decide(
    articles: Iterable[KnowledgeArticle],
    directory: Directory,
    trigger: str,
    *,
    keeps_assignee: bool = True,
) -> Plan:
    """`keeps_assignee`: whether the platform keeps an assignee for articles (its mapping)."""
    plan = Plan(procedure=NAME, trigger=trigger)
    for article in articles:
        route_for_approval(article, directory, plan, keeps_assignee=keeps_assignee)
    return plan


def route_for_approval(
    article: KnowledgeArticle, directory: Directory, plan: Plan, *, keeps_assignee: bool = True
) -> None:
    label = str(article.id)
    group = article.proposing_group or article.assigned_group
    coordinator = directory.group_coordinator(group)
    if group is None or coordinator is None:
        plan.note(label, "not routed", f"no group coordinator is known for {group or '(no group)'}")
        return
    if keeps_assignee and article.assignee == coordinator:
        plan.note(label, "already with the coordinator", f"{coordinator} already reviews it")
        return
    why = (
        f"solution '{article.title}' was proposed for general use by {group}; its group "
        f"coordinator {coordinator} decides whether it is activated"
    )
    changes: dict[str, object] = {"assigned_group": group}
    if keeps_assignee:
        changes["assignee"] = coordinator
    else:
        why += (
            "; the platform keeps no assignee for knowledge articles, so the article goes to "
            f"{group} and {coordinator} is informed"
        )
    trigger = f"article:{article.id}:proposed"
    if changes != {"assigned_group": article.assigned_group}:
        plan.add(
            Action(
                kind=ActionKind.ASSIGN,
                step="route-for-approval",
                trigger=trigger,
                reason=reason(why),
                target_kind=RecordKind.KNOWLEDGE_ARTICLE,
                target_id=article.id,
                changes=changes,
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


def _keeps_assignee(ctx: Context) -> bool:
    """Does the platform keep an assignee for articles? (Stock ServiceNow does not.)"""
    return ctx.connector.maps(RecordKind.KNOWLEDGE_ARTICLE, "assignee")


def for_record(ctx: Context, record_id: str) -> Plan:
    """P7 for one article, when the ITSM says it changed (webhook)."""
    article = ctx.connector.get(KnowledgeArticle, record_id)
    if article.status is not ArticleStatus.PROPOSED:
        return Plan(procedure=NAME, trigger=ctx.trigger)
    return decide([article], ctx.directory(), ctx.trigger, keeps_assignee=_keeps_assignee(ctx))


def run(ctx: Context) -> Plan:
    articles = ctx.connector.find(KnowledgeArticle, F("status") == ArticleStatus.PROPOSED)
    directory = ctx.directory()
    return decide(articles, directory, ctx.trigger, keeps_assignee=_keeps_assignee(ctx))


SPEC = Procedure(
    name=NAME,
    process=PROCESS,
    number=7,
    title="Solution Approval",
    triggers=("schedule (every 15 minutes)", "manual"),
    run=run,
)
