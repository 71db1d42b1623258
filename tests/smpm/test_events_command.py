"""`smpm events retry`: one event by id, or every dead one (since a moment) after an outage."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from connector.testing import at
from smpm.cli import main
from smpm.intake.config import IntakeSection
from smpm.intake.models import GenericEvent, intake_item
from smpm.intake.store import accept, listing
from smpm.intake.worker import Worker
from smpm.store import open_engine
from tests.smpm.intake.conftest import event_body

# (message, received at): the events the operator finds dead after an outage
RECEIVED = (("m0", "2026-11-24 23:30"), ("m1", "2026-11-25 08:30"), ("m2", "2026-11-25 09:30"))
ONE_TRY = IntakeSection(max_attempts=1, lease_seconds=30)


def bury_all(engine: Engine) -> dict[str, str]:
    """Store the events at their times and let their only attempt fail; message -> id."""
    ids = {}
    for message, when in RECEIVED:
        item = intake_item("events", GenericEvent.model_validate(event_body(message=message)), None)
        ids[message] = accept(engine, [item], at(when))[0].id

    def fails(event: object) -> str:
        raise RuntimeError("Remedy create: HTTP 400: bad request")

    worker = Worker(engine, fails, ONE_TRY, lambda: at("2026-11-25 10:00"))
    while worker.run_once():
        pass
    return ids


@pytest.fixture
def config(tmp_path: Path) -> tuple[Path, Engine, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = open_engine(url)
    ids = bury_all(engine)
    path = tmp_path / "smpm.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return path, engine, ids


def run(path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(path), "events", "retry", *args])
    return result.exit_code, result.output


def pending(engine: Engine) -> dict[str, int]:
    return {r["id"]: r["attempts"] for r in listing(engine, ["pending"], 10)}


@pytest.mark.parametrize(
    ("since", "requeued"),
    [
        pytest.param(None, {"m0", "m1", "m2"}, id="every dead event"),
        pytest.param("2026-11-25", {"m1", "m2"}, id="received since a date (00:00 UTC)"),
        pytest.param("2026-11-25T09:00:00+01:00", {"m1", "m2"}, id="since a time with offset"),
        pytest.param("2026-11-25T09:00Z", {"m2"}, id="since a time in UTC"),
    ],
)
def test_retry_all_dead_requeues_them_with_fresh_attempts(
    config: tuple[Path, Engine, dict[str, str]], since: str | None, requeued: set[str]
) -> None:
    """After an outage the operator requeues the dead events at once; the others stay dead."""
    path, engine, ids = config
    args = ["--all", "--status", "dead", *(["--since", since] if since else [])]
    code, output = run(path, *args)
    assert code == 0, output
    assert f"{len(requeued)} dead event(s)" in output
    assert pending(engine) == {ids[m]: 0 for m in requeued}
    assert len(listing(engine, ["dead"], 10)) == 3 - len(requeued)


def test_retry_one_event_by_id_still_works(config: tuple[Path, Engine, dict[str, str]]) -> None:
    path, engine, ids = config
    code, output = run(path, ids["m1"])
    assert (code, output.strip()) == (0, f"event {ids['m1']} is pending again")
    assert pending(engine) == {ids["m1"]: 0}
    again = run(path, ids["m1"] + "x")
    assert again[0] == 1 and "no dead or pending event" in again[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "name one EVENT_ID, or use --all --status dead", id="nothing named"),
        pytest.param(["ID", "--all", "--status", "dead"], "name one EVENT_ID", id="both"),
        pytest.param(["--all"], "--all needs --status dead", id="all without status"),
        pytest.param(["ID", "--since", "2026-11-25"], "go with --all", id="since without all"),
        pytest.param(
            ["--all", "--status", "dead", "--since", "2026-11-25 09:00"], "no zone", id="no zone"
        ),
    ],
)
def test_retry_refuses_what_it_cannot_tell_apart(
    config: tuple[Path, Engine, dict[str, str]], args: list[str], message: str
) -> None:
    """A usage mistake changes nothing and says what to type."""
    path, engine, _ = config
    code, output = run(path, *args)
    assert code == 2 and message in output, output
    assert pending(engine) == {}
