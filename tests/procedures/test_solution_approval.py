"""Incident Management P7, Solution Approval, on each platform's mapping.

SMPM: "After a group coordinator has received a notification that a new solution has been
proposed, he/she reviews the proposed solution information."

The machine's part is the routing: the proposed article goes to the proposing group and its
coordinator is told. Where the platform keeps an assignee for articles (Remedy's RKM), the
article is also assigned to the coordinator; where it keeps none (ServiceNow's kb_knowledge,
unless a site maps a column), only the group is set. The plan differs only by what the mapping
keeps: the procedure asks `maps(kind, field)`, never the platform's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connector.codec import load_platform_mapping
from connector.entities import KnowledgeArticle, RecordKind
from connector.enums import ArticleStatus
from connector.testing import FakeConnector
from mappings.loader import PlatformMapping
from procedures.config import ProceduresConfig
from procedures.incident import solution_approval
from procedures.plan import ActionKind, Plan
from procedures.registry import Context
from tests.procedures.conftest import NOW, directory

SITE_REVIEWER = {"kinds": {"knowledge_article": {"fields": {"assignee": "u_reviewer.user_name"}}}}


@dataclass
class MappedFake(FakeConnector):
    """A fake that keeps only the fields a real platform mapping keeps."""

    mapping: PlatformMapping | None = None

    def maps(self, kind: RecordKind, field: str) -> bool:
        assert self.mapping is not None
        spec = self.mapping.kind(kind.value)
        return spec is not None and field in spec.fields


def fake_for(platform: str, overrides: dict[str, Any] | None = None) -> MappedFake:
    return MappedFake(platform=platform, mapping=load_platform_mapping(platform, overrides))


def proposed(**fields: Any) -> KnowledgeArticle:
    values: dict[str, Any] = {
        "id": "KBA1",
        "title": "Reset token",
        "status": ArticleStatus.PROPOSED,
        "proposing_group": "Application Support",
    }
    return KnowledgeArticle(**{**values, **fields})


def run_on(fake: MappedFake, *articles: KnowledgeArticle) -> Plan:
    fake.add(*articles)
    return solution_approval.run(Context(fake, ProceduresConfig(), NOW, _directory=directory()))


ROUTES = [
    pytest.param(
        "remedy",
        None,
        proposed(),
        {"assigned_group": "Application Support", "assignee": "alice"},
        "alice",
        id="remedy-assigns-group-and-coordinator",
    ),
    pytest.param(
        "servicenow",
        None,
        proposed(proposing_group=None, assigned_group="Service Desk"),
        None,
        "sam",
        id="servicenow-group-already-set-only-informs",
    ),
    pytest.param(
        "servicenow",
        None,
        proposed(proposing_group="Application Support", assigned_group="Service Desk"),
        {"assigned_group": "Application Support"},
        "alice",
        id="servicenow-sets-the-group-without-assignee",
    ),
    pytest.param(
        "servicenow",
        SITE_REVIEWER,
        proposed(proposing_group=None, assigned_group="Application Support"),
        {"assigned_group": "Application Support", "assignee": "alice"},
        "alice",
        id="servicenow-site-that-maps-an-assignee-assigns",
    ),
]


@pytest.mark.parametrize(("platform", "overrides", "article", "changes", "coordinator"), ROUTES)
def test_a_proposed_solution_reaches_its_group_coordinator(
    platform: str,
    overrides: dict[str, Any] | None,
    article: KnowledgeArticle,
    changes: dict[str, str] | None,
    coordinator: str,
) -> None:
    """'After a group coordinator has received a notification that a new solution has been
    proposed, he/she reviews the proposed solution information.'"""
    plan = run_on(fake_for(platform, overrides), article)
    assigns = [a for a in plan.actions if a.kind is ActionKind.ASSIGN]
    notifies = [a for a in plan.actions if a.kind is ActionKind.NOTIFY]
    assert [a.changes for a in assigns] == ([changes] if changes else [])
    assert [a.recipient for a in notifies] == [coordinator]
    assert "P7 Solution Approval" in str(notifies[0].reason)


@pytest.mark.parametrize("platform", ["remedy", "servicenow"])
def test_every_planned_field_is_one_the_platform_keeps(platform: str) -> None:
    """The run that failed on ServiceNow ('kinds.knowledge_article.fields.assignee: not mapped
    for servicenow'): the plan writes only fields the platform's mapping keeps."""
    fake = fake_for(platform)
    plan = run_on(
        fake,
        proposed(id="KBA1"),
        proposed(id="KBA2", proposing_group="Network Operations"),
        proposed(id="KBA3", proposing_group=None, assigned_group="Service Desk"),
    )
    assert [a.recipient for a in plan.actions if a.kind is ActionKind.NOTIFY] == [
        "alice",
        "nina",
        "sam",
    ]
    for action in plan.actions:
        for name in action.changes:
            assert fake.maps(RecordKind.KNOWLEDGE_ARTICLE, name), (action.step, name)


def test_without_a_kept_assignee_the_reason_says_the_group_is_set() -> None:
    """Every action says why: where no assignee is kept, the reason says the coordinator is
    informed and the article goes to the group."""
    plan = run_on(fake_for("servicenow"), proposed(assigned_group="Service Desk"))
    assign, notify = plan.actions
    assert "keeps no assignee" in assign.reason.rule
    assert "alice" in notify.reason.rule
    assert "Application Support" in assign.reason.rule


@pytest.mark.parametrize(
    ("name", "keeps_assignee", "expected"),
    [
        pytest.param("servicenow", True, ["assigned_group", "assignee"], id="named-sn-keeps"),
        pytest.param("remedy", False, ["assigned_group"], id="named-remedy-keeps-none"),
    ],
)
def test_the_plan_follows_the_mapping_not_the_platform_name(
    name: str, keeps_assignee: bool, expected: list[str]
) -> None:
    """The procedure asks what the mapping keeps; a platform's name decides nothing."""

    @dataclass
    class Named(FakeConnector):
        def maps(self, kind: RecordKind, field: str) -> bool:
            return keeps_assignee or field != "assignee"

    plan = run_on(Named(platform=name), proposed(assigned_group="Service Desk"))
    assert sorted(plan.actions[0].changes) == expected


@pytest.mark.parametrize("platform", ["remedy", "servicenow"])
def test_the_webhook_path_plans_the_same(platform: str) -> None:
    """`for_record` (a record change notification) routes one article as the run does."""
    fake = fake_for(platform)
    fake.add(proposed(assigned_group="Service Desk"))
    ctx = Context(fake, ProceduresConfig(), NOW, _directory=directory())
    by_hook = solution_approval.for_record(ctx, "KBA1")
    by_run = solution_approval.run(ctx)
    assert [(a.step, a.changes, a.recipient) for a in by_hook.actions] == [
        (a.step, a.changes, a.recipient) for a in by_run.actions
    ]


def test_with_a_kept_assignee_already_the_coordinator_nothing_is_planned() -> None:
    """Where the assignee is kept and is already the coordinator, the routing is done."""
    plan = run_on(fake_for("remedy"), proposed(assignee="alice"))
    assert plan.actions == []
    assert plan.findings[0].outcome == "already with the coordinator"
