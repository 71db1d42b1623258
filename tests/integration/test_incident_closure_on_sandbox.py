"""Incident Management P6, Incident Request Closure, end to end on both faces of the sandbox.

SMPM: "If the user considers the solution acceptable, he/she does not need to take any action.
If the solution is not acceptable, however, the user reopens the incident request, thus
requesting a better solution."

The seed adds four resolved requests to the demo organisation, each with customer
communications written after the resolution (Remedy: HPD:WorkLog rows of type Customer
Communication; ServiceNow: `comments` journal entries), by the requester or by the assignee:
only the requester's rejection reopens; the others wait and then close.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus
from connector.filters import Field
from connector.testing import at
from sandbox.seed import load_seed
from sandbox.seed_format import Incident, Note, Seed
from sandbox.server import Sandbox
from smpm.executor import RunReport
from smpm.runner import run_procedure
from smpm.settings import Settings
from tests.integration.conftest import open_for, platform_settings

pytestmark = pytest.mark.integration

NOW = at("2026-11-25 10:00")  # the sandbox's clock: the seed's "-1d" is 2026-11-24 10:00
LATER = NOW + timedelta(days=6)  # past close_after_days (5) for every seeded resolution
INVITATION = "Your request has been resolved. If it is not fixed, reply and we will reopen."
REJECTION = "Unfortunately it is still broken: the login page shows the same error."


def resolved(summary: str, customer: str, *notes: Note) -> Incident:
    return Incident(
        summary=summary,
        customer=customer,
        service="Payroll",
        impact="minor",
        urgency="low",
        status="resolved",
        status_reason="no_further_action",
        resolution="Password reset and cache cleared.",
        assigned_group="Service Desk",
        assignee="Allen",
        opened="-3d",
        responded="-2d",
        notes=list(notes),
    )


def said(author: str, text: str, when: str) -> Note:
    return Note(text=text, author=author, at=when, kind="customer_communication", public=True)


REQUESTS = {
    "rejected": resolved(
        "Payroll portal login fails after password reset",
        "Peter",
        said("Allen", INVITATION, "-1d12h"),
        said("Peter", f"Thanks for the reset. {REJECTION}", "-1d"),
    ),
    "accepted": resolved(
        "Payroll payslip PDF does not open",
        "Rita",
        said("Allen", INVITATION, "-1d12h"),
        said("Rita", "Thanks, it works now - no need to reopen.", "-1d"),
    ),
    "assignee-only": resolved(
        "Payroll tax form shows the wrong year",
        "Victor",
        said("Allen", INVITATION, "-1d12h"),
    ),
    "quoted": resolved(
        "Payroll expenses upload times out",
        "Hannah",
        said(
            "Hannah",
            "Great, all fine now.\n\nOn Mon, 23 Nov 2026 at 10:00, Allen Allbrook "
            f"<a.allbrook@calbroservices.com> wrote:\n> {INVITATION}",
            "-1d",
        ),
    ),
}


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """The demo organisation and the four requests, on a fixed clock, in a sandbox of its own."""
    demo = load_seed("demo")
    seed = Seed.model_validate(
        {**demo.model_dump(), "incidents": [*demo.incidents, *REQUESTS.values()]}
    )
    with Sandbox.start(port=0, seed=seed, clock=NOW.timestamp) as running:
        yield running


@pytest.fixture
def settings(platform: str, fresh: Sandbox, tmp_path: Path) -> Settings:
    return platform_settings(platform, fresh, tmp_path)


def numbers(platform: str, sandbox: Sandbox) -> dict[str, str]:
    """Each seeded request's number on this face, by its name in REQUESTS."""
    with open_for(platform, sandbox) as connector:
        by_summary = {i.summary: i.id for i in connector.find(IncidentRequest) if i.id}
    return {name: by_summary[item.summary] for name, item in REQUESTS.items()}


def request(platform: str, sandbox: Sandbox, number: str) -> tuple[IncidentRequest, list[str]]:
    with open_for(platform, sandbox) as connector:
        found = connector.get(IncidentRequest, number)
        notes = connector.find(WorkNote, Field("parent_id") == number, within=RecordKind.INCIDENT)
        return found, [f"{n.summary or ''} {n.text}" for n in notes]


def run(settings: Settings, now: datetime) -> RunReport:
    return run_procedure(settings, "incident.closure", now=now, trigger="test", clock=lambda: now)


def steps(report: RunReport, number: str) -> list[str]:
    return [o.action.step for o in report.outcomes if o.action.target_id == number]


def writes(sandbox: Sandbox) -> int:
    """Calls that change the ITSM (logins are not changes)."""
    routes = sandbox.stats()["by_route"]
    return sum(n for r, n in routes.items() if not r.startswith("GET ") and "/jwt/" not in r)


def test_only_the_requesters_rejection_reopens(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """Two days after the resolutions: the requester's 'still broken' reopens its request, with
    a work note quoting the sentence; the assignee's invitation, a 'no need to reopen' and a
    quoted invitation reopen nothing, and those requests wait for their requesters."""
    number = numbers(platform, fresh)
    report = run(settings, NOW)
    assert report.count("failed") == 0, [o.detail for o in report.outcomes]
    assert steps(report, number["rejected"]) == ["reopen", "reopen-note"]
    for name in ("accepted", "assignee-only", "quoted"):
        assert steps(report, number[name]) == [], name
    reopened, notes = request(platform, fresh, number["rejected"])
    assert reopened.status is IncidentStatus.IN_PROGRESS
    assert reopened.assignee == "Allen"  # back with its assignment
    assert any(f"'{REJECTION}'" in n and "P6 Incident Request Closure" in n for n in notes)
    for name in ("accepted", "assignee-only", "quoted"):
        waiting, _ = request(platform, fresh, number[name])
        assert waiting.status is IncidentStatus.RESOLVED, name


def test_accepted_and_unanswered_requests_close(
    platform: str, settings: Settings, fresh: Sandbox
) -> None:
    """Past close_after_days: silence and acceptance close; the rejection still reopens."""
    number = numbers(platform, fresh)
    report = run(settings, LATER)
    assert report.count("failed") == 0, [o.detail for o in report.outcomes]
    assert steps(report, number["rejected"]) == ["reopen", "reopen-note"]
    for name in ("accepted", "assignee-only", "quoted"):
        assert steps(report, number[name]) == ["close"], name
        closed, _ = request(platform, fresh, number[name])
        assert closed.status is IncidentStatus.CLOSED, name


def test_a_second_run_writes_nothing(platform: str, settings: Settings, fresh: Sandbox) -> None:
    """The same run again: the reopened request is no longer resolved, the closed ones are
    closed, and nothing is written the second time."""
    first = run(settings, LATER)
    assert first.count("failed") == 0
    assert first.count("applied") >= 5
    before = writes(fresh)
    again = run(settings, LATER)
    assert again.count("applied") == 0
    assert again.count("failed") == 0
    assert writes(fresh) == before
