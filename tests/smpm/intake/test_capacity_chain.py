"""A capacity warning Event Handling registers goes straight on to Capacity Warning Handling."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from connector.entities import (
    ConfigurationItem,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    Service,
)
from connector.enums import IncidentStatus, RelationType, ServiceType
from connector.errors import Unavailable
from connector.testing import FakeConnector, at
from smpm.intake.models import GenericEvent, intake_item
from smpm.intake.processor import Processor
from smpm.intake.store import Claimed, accept, claim
from smpm.settings import Settings, load_settings

NOW = at("2026-11-25 10:00")
ROW = {
    "infrastructure": "san-array-01",
    "capacity_level": "storage",
    "metric": "storage.used_percent",
    "warning_threshold": 85,
    "critical_threshold": 95,
    "specialist_group": "Storage Management",
}


def organisation() -> FakeConnector:
    return FakeConnector().add(
        ConfigurationItem(id="CI1", name="san-array-01"),
        ConfigurationItem(id="CI2", name="Online Banking"),
        Relation(
            source_kind=RecordKind.CI,
            source_id="CI2",
            target_kind=RecordKind.CI,
            target_id="CI1",
            relation_type=RelationType.DEPENDS_ON,
        ),
        Service(name="Online Banking", capacity_manager="carl", problem_coordinator="bob"),
    )


def settings(tmp_path: Path) -> Settings:
    return load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'state.db'}"},
        capacity={"overview": [ROW]},
    )


def event(engine: Engine, value: float) -> Claimed:
    body = {
        "source": "zabbix",
        "ci": "san-array-01",
        "type": "disk",
        "metric": "storage.used_percent",
        "severity": "warning",
        "message": f"SAN {value:g}% full",
        "value": value,
        "threshold": 80,
        "time": "2026-11-25T09:59:00Z",
    }
    accept(engine, [intake_item("events", GenericEvent.model_validate(body), None)], NOW)
    [claimed] = claim(engine, "w", NOW, timedelta(minutes=1), 1)
    return claimed


def test_a_warning_above_the_overview_threshold_ends_linked_and_closed(tmp_path: Path) -> None:
    """P1 registers the warning; P2, right after, links it to a new problem and closes it."""
    fake = organisation()
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    claimed = event(processor.engine, 96)
    outcome = processor(claimed)
    assert outcome.startswith("[new_incident] new incident request (first warning")
    assert "linked to a problem investigation; closed" in outcome
    [warning] = fake.find(IncidentRequest)
    [problem] = fake.find(ProblemInvestigation)
    assert (warning.service_type, warning.status) == (
        ServiceType.INFRASTRUCTURE_EVENT,
        IncidentStatus.CLOSED,
    )
    assert problem.assigned_group == "Storage Management"
    assert [(r.source_id, r.target_id) for r in fake.relations[1:]] == [(warning.id, problem.id)]


def test_a_failure_in_p2_does_not_fail_the_event(tmp_path: Path) -> None:
    """P2 failed half way: the event is still done (a retry of P1 would register the warning
    again, since P2 changed it); what is left is P2's scheduled run's, which finds nothing
    twice."""
    fake = organisation()
    update, failures = fake.update, [Unavailable("Remedy: HTTP 503")]

    def flaky(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        update(*args, **kwargs)

    fake.update = flaky  # type: ignore[method-assign]
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    outcome = processor(event(processor.engine, 96))
    assert "left for its scheduled run: resolve: Remedy: HTTP 503" in outcome
    [warning] = fake.find(IncidentRequest)
    [problem] = fake.find(ProblemInvestigation)
    assert (fake.relations[-1].source_id, fake.relations[-1].target_id) == (warning.id, problem.id)
    assert warning.status is IncidentStatus.CLOSED  # the close step still ran after the failure


def test_a_warning_below_the_overview_thresholds_asks_monitoring_to_adjust(tmp_path: Path) -> None:
    fake = organisation()
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    outcome = processor(event(processor.engine, 82))
    assert "monitoring adjustment requested; closed" in outcome
    warning, request = sorted(fake.find(IncidentRequest), key=lambda i: str(i.id))
    assert warning.status is IncidentStatus.CLOSED
    assert (request.assigned_group, request.customer) == ("Monitoring", "carl")


def test_other_events_do_not_run_capacity_warning_handling(tmp_path: Path) -> None:
    fake = organisation()
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    claimed = event(processor.engine, 50)  # within the event's own threshold: information
    assert processor(claimed).startswith("[information] closed: information")
    assert fake.writes == []


def _engine(tmp_path: Path) -> Engine:
    from smpm.store import open_engine

    return open_engine(f"sqlite:///{tmp_path / 'state.db'}")
