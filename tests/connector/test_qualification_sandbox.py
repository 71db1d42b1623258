"""LIKE values with `%`, `_` and `[` on the AR face of the sandbox, through the Remedy connector.

AR reads `%` (any text) and `_` (one character) as wildcards and `[...]` as a class; the
renderer brackets them (`[_]`), the literal form on Microsoft SQL Server and Sybase [reference
3; BMC "Wildcards"], which the sandbox emulates. So a summary search for a realistic alert name
finds that alert's requests and none of its lookalikes. (On Oracle, where AR has no escape, a
bracketed wildcard matches nothing: see the renderer's docstring.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.codec import load_platform_mapping
from connector.entities import IncidentRequest
from connector.enums import Impact, IncidentStatus, ReportedSource, ServiceType, Urgency
from connector.filters import Field
from connector.remedy import RemedyConnector
from connector.remedy.qualification import render
from sandbox.server import DEMO_USER, Sandbox
from tests.integration.conftest import remedy_for

pytestmark = pytest.mark.integration
ALERTS = ["host_down", "cpu_high", "instance_down", "disk_90%", "KubePodCrashLooping", "[x]"]
LOOKALIKES = ["hostXdown", "cpu-high", "instanceZdown", "disk_900", "KubePodCrashLoopingX", "x"]
TAG = "smpm-remedy-alert-names"


@pytest.fixture(scope="module")
def remedy() -> Iterator[RemedyConnector]:
    with (
        Sandbox.start(port=0, seed="demo") as sandbox,
        remedy_for(sandbox, load_platform_mapping("remedy")) as connector,
    ):
        yield connector


@pytest.fixture(scope="module")
def made(remedy: RemedyConnector) -> dict[str, str]:
    """One incident per name: `[<name>] on web-01`."""
    out = {}
    for name in [*ALERTS, *LOOKALIKES]:
        incident = IncidentRequest(
            summary=f"[{name}] on web-01",
            status=IncidentStatus.NEW,
            impact=Impact.MODERATE,
            urgency=Urgency.MEDIUM,
            service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
            reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
            customer=DEMO_USER,
            correlation_id=TAG,
        )
        out[name] = str(remedy.create(incident).id)
    return out


@pytest.mark.parametrize("name", ALERTS)
def test_an_alert_name_finds_its_own_request_and_no_lookalike(
    remedy: RemedyConnector, made: dict[str, str], name: str
) -> None:
    """Event Handling's search by `[<type>]` at the start of the summary, on AR."""
    where = Field("summary").startswith(f"[{name}]") & (Field("correlation_id") == TAG)
    assert {str(i.id) for i in remedy.find(IncidentRequest, where)} == {made[name]}
    contains = Field("summary").contains(name) & (Field("correlation_id") == TAG)
    found = {str(i.id) for i in remedy.find(IncidentRequest, contains)}
    assert made[name] in found
    assert found <= {made[n] for n in [*ALERTS, *LOOKALIKES] if name in f"[{n}]"}


def test_the_qualification_brackets_each_wildcard() -> None:
    """What reaches the server for those searches [BMC: `[_]` matches only the _ character]."""
    assert render(Field("Description").startswith("[host_down]")) == (
        "'Description' LIKE \"[[]host[_]down]%\""
    )
    assert render(Field("Description").contains("disk_90%")) == (
        "'Description' LIKE \"%disk[_]90[%]%\""
    )
