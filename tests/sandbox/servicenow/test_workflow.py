"""Business rules and task SLAs of the ServiceNow face [reference 2.1-2.3, 2.6]."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import Sandbox
from tests.sandbox.servicenow.support import SN
from tests.sandbox.support import FakeClock

MATRIX = [  # (impact, urgency) -> priority [2.1]
    ("1", "1", "1"), ("1", "2", "2"), ("1", "3", "3"),
    ("2", "1", "2"), ("2", "2", "3"), ("2", "3", "4"),
    ("3", "1", "3"), ("3", "2", "4"), ("3", "3", "5"),
]  # fmt: skip


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def timed(clock: FakeClock) -> Iterator[Sandbox]:
    """A demo sandbox whose clock moves only when a test says so."""
    with Sandbox.start(seed="demo", clock=clock) as running:
        yield running


@pytest.fixture(scope="module")
def client(timed: Sandbox) -> SN:
    return SN(timed.base_url)


@pytest.mark.parametrize(("impact", "urgency", "priority"), MATRIX)
def test_priority_matrix(sn: SN, impact: str, urgency: str, priority: str) -> None:
    """Priority comes from impact x urgency; a priority sent by a client is overwritten."""
    made = sn.new("incident", impact=impact, urgency=urgency, priority="1")
    assert made["priority"] == priority
    change = sn.new("change_request", impact=impact, urgency=urgency)
    assert change["priority"] == str(min(int(priority), 4))


def test_state_mirrors_and_incident_lifecycle(client: SN, clock: FakeClock) -> None:
    """incident_state mirrors state either way; Resolved, Closed and a reopen stamp their
    fields; a new assignment group counts a reassignment [2.1]."""
    made = client.new("incident", short_description="lifecycle")
    sys_id = made["sys_id"]
    group = client.sys_id("sys_user_group", "name=Network Operations")
    service_desk = client.sys_id("sys_user_group", "name=Service Desk")
    client.patch("incident", sys_id, {"assignment_group": service_desk})
    moved = client.patch("incident", sys_id, {"incident_state": "2", "assignment_group": group})
    assert (moved.json()["result"]["state"], moved.json()["result"]["reassignment_count"]) == (
        "2",
        "1",
    )
    clock.advance(60)
    resolved = client.patch("incident", sys_id, {"state": "6", "close_code": "Solution provided"})
    result = resolved.json()["result"]
    assert result["incident_state"] == "6" and result["resolved_at"] and result["active"] == "true"
    assert result["resolved_by"]["value"] == client.sys_id("sys_user", "user_name=Allen")
    clock.advance(60)
    reopened = client.patch("incident", sys_id, {"state": "2"}).json()["result"]
    assert (reopened["reopen_count"], reopened["resolved_at"]) == ("1", "")
    assert reopened["reopened_time"] and reopened["reopened_by"]
    closed = client.patch("incident", sys_id, {"state": "7"}).json()["result"]
    assert closed["active"] == "false" and closed["closed_at"] and closed["resolved_at"]
    assert int(closed["sys_mod_count"]) == 5


def test_problem_and_change_rules(client: SN) -> None:
    """problem_state mirrors state; related_incidents counts incidents naming the problem;
    Closed clears active; change Closed and Canceled clear active [2.2, 2.3]."""
    problem = client.new("problem", short_description="rules")
    assert (problem["state"], problem["problem_state"], problem["known_error"]) == (
        "101",
        "101",
        "false",
    )
    for _ in range(2):
        client.new("incident", problem_id=problem["sys_id"])
    assert client.record("problem", problem["sys_id"])["related_incidents"] == "2"
    done = client.patch("problem", problem["sys_id"], {"problem_state": "107"}).json()["result"]
    assert (done["state"], done["active"]) == ("107", "false") and done["closed_at"]
    change = client.new("change_request", short_description="rules")
    assert (change["state"], change["type"], change["risk"], change["phase"]) == (
        "-5",
        "normal",
        "3",
        "requested",
    )
    closed = client.patch("change_request", change["sys_id"], {"state": "3"}).json()["result"]
    assert closed["active"] == "false" and closed["closed_at"]


def slas(client: SN, sys_id: str) -> dict[str, dict[str, Any]]:
    rows = client.rows(
        "task_sla",
        sysparm_query=f"task={sys_id}^ORDERBYsys_created_on",
        sysparm_fields="sla.name,stage,has_breached,percentage,planned_end_time,end_time,active,business_duration",
    )
    return {f"{r['sla.name']}|{r['stage']}": r for r in rows}


RESPONSE = "Gold: respond to Critical and High within 15 minutes"
CRITICAL = "Gold: resolve Critical within 4 hours"
MEDIUM = "Gold: resolve Medium and Low within 3 days"


def test_task_sla_lifecycle(client: SN, clock: FakeClock) -> None:
    """SLAs attach by their definitions' start conditions, stop (response: leaving New;
    resolution: Resolved), pause while On Hold (moving the planned end), breach, and a reopen
    attaches a new one [2.6]."""
    banking = client.sys_id("cmdb_ci_service", "name=Online Banking")
    made = client.new("incident", business_service=banking, impact="1", urgency="1")
    sys_id = made["sys_id"]
    assert set(slas(client, sys_id)) == {f"{RESPONSE}|in_progress", f"{CRITICAL}|in_progress"}
    clock.advance(600)
    client.patch("incident", sys_id, {"state": "2"})
    response = slas(client, sys_id)[f"{RESPONSE}|completed"]
    assert (response["has_breached"], response["active"], response["percentage"]) == (
        "false",
        "false",
        "66.67",
    )
    planned = slas(client, sys_id)[f"{CRITICAL}|in_progress"]["planned_end_time"]
    client.patch("incident", sys_id, {"state": "3", "hold_reason": "1"})
    clock.advance(3600)
    paused = slas(client, sys_id)[f"{CRITICAL}|paused"]
    assert paused["percentage"] == "4.17"  # 10 minutes of 4 hours; the hour on hold does not count
    client.patch("incident", sys_id, {"state": "2"})
    resumed = slas(client, sys_id)[f"{CRITICAL}|in_progress"]
    assert resumed["planned_end_time"] > planned
    clock.advance(4 * 3600)
    late = slas(client, sys_id)[f"{CRITICAL}|in_progress"]
    assert late["has_breached"] == "true" and float(late["percentage"]) > 100
    assert client.record("incident", sys_id)["made_sla"] == "false"
    client.patch("incident", sys_id, {"state": "6"})
    assert slas(client, sys_id)[f"{CRITICAL}|completed"]["has_breached"] == "true"
    clock.advance(60)
    client.patch("incident", sys_id, {"state": "2"})
    assert f"{CRITICAL}|in_progress" in slas(client, sys_id)


def test_task_sla_cancelled_when_start_no_longer_holds(client: SN) -> None:
    """A priority change cancels the definitions that no longer apply and starts the ones that
    now do; a Canceled incident cancels its SLAs (the platform's default cancel rule)."""
    banking = client.sys_id("cmdb_ci_service", "name=Online Banking")
    made = client.new("incident", business_service=banking, impact="1", urgency="1", state="2")
    sys_id = made["sys_id"]
    assert set(slas(client, sys_id)) == {f"{CRITICAL}|in_progress"}
    client.patch("incident", sys_id, {"urgency": "3", "impact": "3"})
    assert set(slas(client, sys_id)) == {f"{CRITICAL}|cancelled", f"{MEDIUM}|in_progress"}
    client.patch("incident", sys_id, {"state": "8"})
    assert {key.split("|")[1] for key in slas(client, sys_id)} == {"cancelled"}


def test_seeded_task_slas(sn: SN) -> None:
    """The seed's incidents carry task SLAs like the AR face's measurements: the unassigned
    Critical one is past its 15-minute response target."""
    rows = sn.rows(
        "task_sla",
        sysparm_query="task.short_description=Online Banking login page times out",
        sysparm_fields="sla.name,stage,has_breached",
    )
    by_name = {r["sla.name"]: r for r in rows}
    assert by_name[RESPONSE]["has_breached"] == "true"
    assert by_name[CRITICAL] == {
        "sla.name": CRITICAL,
        "stage": "in_progress",
        "has_breached": "false",
    }
    pending = sn.rows(
        "task_sla",
        sysparm_query="task.short_description=Outlook cannot connect to mailbox",
        sysparm_fields="stage",
    )
    assert [r["stage"] for r in pending] == ["paused"]
