"""Incident Management P7, Solution Approval, end to end on both faces of the sandbox.

SMPM: "After a group coordinator has received a notification that a new solution has been
proposed, he/she reviews the proposed solution information."

The demo seed proposes "Failing back db-cluster-01 after an unplanned failover" from Database
Administration (coordinator Dana). On Remedy (RKM) the article is assigned to Dana; ServiceNow's
kb_knowledge keeps no assignee, so the article stays with its ownership group and Dana is told.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.entities import KnowledgeArticle
from connector.enums import ArticleStatus
from connector.filters import Field
from connector.testing import at
from sandbox.server import Sandbox
from smpm.executor import RunReport
from smpm.runner import run_procedure
from smpm.settings import Settings
from tests.integration.conftest import clocked_sandbox, open_for, platform_settings

pytestmark = pytest.mark.integration

NOW = at("2026-11-25 10:00")
TITLE = "Failing back db-cluster-01 after an unplanned failover"
GROUP, COORDINATOR = "Database Administration", "Dana"


# A sandbox of its own on a fixed clock: these tests change the seeded article.
clock, fresh = clocked_sandbox(NOW)


@pytest.fixture
def settings(platform: str, fresh: Sandbox, tmp_path: Path) -> Settings:
    return platform_settings(platform, fresh, tmp_path)


def writes(sandbox: Sandbox) -> int:
    """Calls that change the ITSM (logins are not changes)."""
    routes = sandbox.stats()["by_route"]
    return sum(n for r, n in routes.items() if not r.startswith("GET ") and "/jwt/" not in r)


def article(platform: str, sandbox: Sandbox) -> KnowledgeArticle:
    with open_for(platform, sandbox) as connector:
        found = list(connector.find(KnowledgeArticle, Field("title") == TITLE))
        keeps_assignee = connector.maps(KnowledgeArticle.kind, "assignee")
    assert len(found) == 1
    assert keeps_assignee is (platform == "remedy")
    return found[0]


def run(settings: Settings) -> RunReport:
    return run_procedure(
        settings, "incident.solution_approval", now=NOW, trigger="test", clock=lambda: NOW
    )


def test_the_proposed_solution_reaches_its_coordinator(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """The run succeeds on both faces: the article is with its group (and, where the platform
    keeps one, its coordinator as assignee) and the coordinator is informed."""
    before = article(platform, fresh)
    assert before.status is ArticleStatus.PROPOSED
    report = run(settings)
    assert report.count("failed") == 0, [o.detail for o in report.outcomes]
    notified = [o.action.recipient for o in report.outcomes if o.action.recipient]
    assert notified == [COORDINATOR]
    after = article(platform, fresh)
    assert after.assigned_group == GROUP
    assert after.assignee == (COORDINATOR if platform == "remedy" else None)
    assert after.status is ArticleStatus.PROPOSED  # the coordinator decides, not smpm


def test_a_second_run_writes_nothing(platform: str, settings: Settings, fresh: Sandbox) -> None:
    """Idempotent by construction: the same run again plans nothing new and writes nothing."""
    first = run(settings)
    assert first.count("failed") == 0
    assert first.count("applied") >= 1
    before = writes(fresh)
    again = run(settings)
    assert again.count("applied") == 0
    assert again.count("failed") == 0
    assert writes(fresh) == before
