"""An event about a CI the CMDB does not hold, end to end on both sandbox faces.

SMPM Event Management P1: "If the event represents the first notification of an unplanned
service outage or degradation, the operator registers a new incident request of the service
type "Infrastructure Restoration" for it. The operator ensures that the incident request is
linked to the affected CI". A monitor may name a node the CMDB lacks (db-node-99 is not in the
demo CMDB): the request is registered all the same, on the first attempt, without a CI
reference (ServiceNow's cmdb_ci can only hold a CMDB record), naming the node, so the service
desk can have the CMDB corrected. Nothing is retried until dead, and a replay writes nothing.

Runs on the fixed clock of `test_events_on_sandbox` (`START`), so nothing depends on the day.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.entities import ConfigurationItem, IncidentRequest
from connector.enums import ServiceType
from connector.filters import Field
from sandbox.server import Sandbox
from smpm.intake.service import Service, running
from smpm.intake.store import counts, listing
from tests.clocks import TestClock
from tests.integration.conftest import clocked_sandbox, open_for
from tests.integration.test_events_on_sandbox import (
    START,
    crash_then_replay,
    event_requests,
    notes_on,
    post,
    settings_for,
    writes,
)

pytestmark = pytest.mark.integration
UNKNOWN = "db-node-99"


clock, fresh = clocked_sandbox(START)


@pytest.fixture
def service(platform: str, fresh: Sandbox, tmp_path: Path, clock: TestClock) -> Iterator[Service]:
    with running(settings_for(platform, fresh, tmp_path), workers=0, clock=clock) as svc:
        yield svc


def unknown_ci_requests(platform: str, sandbox: Sandbox) -> list[IncidentRequest]:
    return [
        i
        for i in event_requests(platform, sandbox)
        if (i.event_key or "").startswith(f"zabbix/{UNKNOWN}")
    ]


def test_the_cmdb_has_no_such_ci(platform: str, fresh: Sandbox) -> None:
    """The premise: neither face's CMDB holds db-node-99."""
    with open_for(platform, fresh) as itsm:
        assert list(itsm.find(ConfigurationItem, Field("name") == UNKNOWN)) == []


def test_an_outage_of_a_ci_missing_from_the_cmdb_is_registered_on_the_first_attempt(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    """One Infrastructure Restoration request, decided on the first attempt, nothing dead; the
    request names the node and says the CMDB lacks it, and links no CI."""
    event_id = post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable")
    assert service.drain() == 1
    assert counts(service.engine) == {"pending": 0, "processing": 0, "done": 1, "dead": 0}
    [row] = listing(service.engine, ["done"], 5)
    assert (row["id"], row["attempts"]) == (event_id, 1)
    assert str(row["outcome"]).startswith("[new_incident]")
    assert f"the CMDB has no CI named '{UNKNOWN}'" in str(row["outcome"])
    [request] = unknown_ci_requests(platform, fresh)
    assert request.service_type is ServiceType.INFRASTRUCTURE_RESTORATION
    assert request.ci is None and request.ci_id is None
    assert UNKNOWN in (request.summary or "")
    assert f"{UNKNOWN} is not in the CMDB" in (request.details or "")
    assert request.assigned_group == "Service Desk"  # the default group: no rule matched


def test_a_capacity_warning_for_a_ci_missing_from_the_cmdb_is_registered(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    """ "the first warning of an impending capacity shortage ... registers a new incident
    request": an Infrastructure Event request, with no capacity manager to be found for a CI
    the CMDB does not hold, so it goes to the capacity group."""
    post(
        service,
        ci=UNKNOWN,
        type="cpu",
        metric="cpu.utilisation",
        severity="warning",
        message=f"CPU 97% on {UNKNOWN}",
        value=97,
        threshold=90,
    )
    assert service.drain() == 1
    assert counts(service.engine)["dead"] == 0
    [request] = unknown_ci_requests(platform, fresh)
    assert request.service_type is ServiceType.INFRASTRUCTURE_EVENT
    assert (request.ci, request.assigned_group) == (None, "Capacity Management")


def test_a_redelivered_event_for_a_missing_ci_writes_nothing(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    """The same event posted twice is one event; once decided, posting it again writes
    nothing."""
    first = post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable")
    assert post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable") == first
    service.drain()
    fresh.reset_stats()
    assert post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable") == first
    service.drain()
    assert writes(fresh) == {}
    assert len(unknown_ci_requests(platform, fresh)) == 1


def test_an_event_for_a_missing_ci_replayed_after_a_crash_writes_nothing(
    platform: str, service: Service, fresh: Sandbox, clock: TestClock
) -> None:
    """Worked again after a crash: the request registered for it is found by its condition's
    key (it has no CI to be found by), so the second run writes nothing."""
    post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable")
    wrote, outcome = crash_then_replay(service, fresh, clock)
    assert wrote == {}
    assert outcome.startswith("[new_incident]")
    assert len(unknown_ci_requests(platform, fresh)) == 1


def test_a_repeat_for_a_missing_ci_is_noted_on_its_request(
    platform: str, service: Service, fresh: Sandbox
) -> None:
    """ "closes the event if it was not the first event that was generated for a current ...
    incident": the second event of the condition is a repeat of the request, not a new one."""
    post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable")
    post(service, ci=UNKNOWN, message=f"{UNKNOWN} unreachable", time="2026-11-25T10:01:00Z")
    assert service.drain() == 2
    assert counts(service.engine)["dead"] == 0
    [request] = unknown_ci_requests(platform, fresh)
    notes = notes_on(platform, fresh, str(request.id))
    assert sum("Monitoring: event repeated (2 so far)" in n for n in notes) == 1
