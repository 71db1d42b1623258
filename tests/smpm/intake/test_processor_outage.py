"""What the processor tells the worker: a failed plan carries the ITSM outage behind it, a lost
lease stops it before its next ITSM call, and the breaker's probe is one cheap read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connector.entities import IncidentRequest, SupportGroup
from connector.errors import RateLimited, Rejected, RetryableError, Unavailable
from connector.testing import FakeConnector
from smpm.intake.processor import ProcessingFailed, Processor
from smpm.intake.worker import LeaseLost, _retryable
from tests.smpm.intake.test_capacity_chain import NOW, _engine, event, organisation, settings


def failing_create(fake: FakeConnector, error: Exception) -> None:
    def create(entity: Any) -> Any:
        raise error

    fake.create = create  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        pytest.param(RateLimited("HTTP 429", retry_after=30), True, id="rate-limited"),
        pytest.param(Unavailable("HTTP 503: Service Unavailable"), True, id="unavailable"),
        pytest.param(Rejected("ERROR (326): Impact is required"), False, id="rejected"),
    ],
)
def test_a_failed_create_is_raised_from_the_outage_it_met(
    tmp_path: Path, error: Exception, outage: bool
) -> None:
    """The executor reports a failed create as a failed action (the plan goes on); the
    processor raises the failed plan from the retryable error behind it, so the worker can
    tell an unavailable ITSM (keep the attempt) from a refusal (spend it)."""
    fake = organisation()
    failing_create(fake, error)
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    with pytest.raises(ProcessingFailed) as caught:
        processor(event(processor.engine, 96))
    assert str(error) in str(caught.value)
    cause = _retryable(caught.value)
    assert (cause is error) if outage else cause is None


def test_a_lost_lease_stops_before_the_next_itsm_call(tmp_path: Path) -> None:
    """Another worker may be deciding the event: not one more call, not one write."""
    fake = organisation()
    calls: list[str] = []
    find = fake.find

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("find")
        return find(*args, **kwargs)

    fake.find = counted  # type: ignore[method-assign]
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    lost = replace(event(processor.engine, 96), held=lambda: False)
    with pytest.raises(LeaseLost):
        processor(lost)
    assert calls == [] and fake.writes == [] and list(find(IncidentRequest)) == []


def test_the_probe_is_one_read_of_one_row(tmp_path: Path) -> None:
    fake = organisation().add(SupportGroup(name="Service Desk"), SupportGroup(name="Storage"))
    asked: list[dict[str, Any]] = []
    find = fake.find

    def watched(model: type, *args: Any, **kwargs: Any) -> Any:
        asked.append({"model": model, **kwargs})
        return find(model, *args, **kwargs)

    fake.find = watched  # type: ignore[method-assign]
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    processor.probe()
    assert [(a["model"], a["limit"]) for a in asked] == [(SupportGroup, 1)]


def test_the_probe_fails_with_the_itsm(tmp_path: Path) -> None:
    fake = organisation()

    def down(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("GET https://itsm.example failed: connection refused")

    fake.find = down  # type: ignore[method-assign]
    processor = Processor(settings(tmp_path), _engine(tmp_path), lambda s: fake, lambda: NOW)
    with pytest.raises(RetryableError):
        processor.probe()
