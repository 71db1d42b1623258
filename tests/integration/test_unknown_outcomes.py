"""Creates whose outcome smpm never heard, on both sandbox faces over real HTTP: one record each.

- The ITSM commits a create and answers after the client's read timeout (the sandbox's delay
  fault): the connector says the outcome is unknown, the executor finds the record by its
  correlation id at once, and the audit has its creation.
- The connection drops once the request was sent (the reset fault; the ITSM did not act): the
  key stays pending and the next run creates the record, once.
- A real process is killed (SIGKILL) between the ITSM's create and the outcome record: the next
  run recovers the record with an audit row, whether it replays the plan or decides anew and no
  longer plans that create, and creates nothing twice.
Counts hold each time: records in the ITSM = audit creates = conditions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, func, select

from connector.base import Connector
from connector.codec import load_platform_mapping
from connector.entities import IncidentRequest, RecordKind
from connector.enums import Impact, IncidentStatus, ReportedSource, ServiceType, Urgency
from connector.errors import OutcomeUnknown
from connector.filters import Field
from procedures.plan import Action, ActionKind, Plan, Reason
from sandbox.server import DEMO_USER, Sandbox
from smpm.executor import Executor, idempotency_key
from smpm.store import audit, idempotency, open_engine
from tests.integration.conftest import PLATFORMS, remedy_for, servicenow_for
from tests.postgres import BACKENDS, database_url

pytestmark = [pytest.mark.integration, pytest.mark.timeless]

PROCEDURE = "event.handling"
REASON = Reason(process="Event Management", procedure="P1 Event Handling", rule="new condition")
CREATES = {  # the one call that creates an incident request on each face
    "remedy": "/api/arsys/v1/entry/HPD:IncidentInterface_Create",
    "servicenow": "/api/now/table/incident",
}
READ_TIMEOUT = 0.5  # seconds the client waits for an answer in these tests
HELD = 30.0  # seconds the sandbox holds a delayed answer: far past READ_TIMEOUT


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """smpm's state store, on SQLite and on PostgreSQL."""
    return database_url(request, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_engine(db_url)
    yield engine
    engine.dispose()


def connector_for(platform: str, base_url: str, **http: object) -> Connector:
    """A connector to the sandbox face at `base_url` (another process has no Sandbox object)."""
    make = remedy_for if platform == "remedy" else servicenow_for
    at = SimpleNamespace(base_url=base_url)
    return make(at, load_platform_mapping(platform), attempts=2, **http)  # type: ignore[arg-type]


def conditions_plan(tag: str, count: int, *, skip: tuple[int, ...] = ()) -> Plan:
    """Event Handling registering one incident request per condition `tag`-0 .. -count-1;
    `skip`: conditions the procedure no longer plans (it sees their requests in the ITSM)."""
    plan = Plan(procedure=PROCEDURE, trigger=f"event:{tag}")
    for n in range(count):
        if n in skip:
            continue
        plan.add(
            Action(
                kind=ActionKind.CREATE,
                step="register",
                trigger=f"condition:{tag}-{n}",
                reason=REASON,
                target_kind=RecordKind.INCIDENT,
                record=IncidentRequest(
                    summary=f"Condition {tag}-{n}",
                    status=IncidentStatus.NEW,
                    impact=Impact.MODERATE,
                    urgency=Urgency.MEDIUM,
                    service_type=ServiceType.INFRASTRUCTURE_EVENT,
                    reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
                    customer=DEMO_USER,
                ),
            )
        )
    return plan


def keys(tag: str, count: int) -> list[str]:
    return [idempotency_key(PROCEDURE, f"condition:{tag}-{n}", "register") for n in range(count)]


def in_itsm(connector: Connector, tag: str, count: int) -> list[int]:
    """How many incident requests the ITSM holds under each condition's key."""
    return [
        len(list(connector.find(IncidentRequest, Field("correlation_id") == key)))
        for key in keys(tag, count)
    ]


def audit_creates(engine: Engine) -> int:
    """Audit rows accounting for a record smpm created (applied, or found again)."""
    with engine.connect() as conn:
        query = select(func.count()).where(
            audit.c.action == "create", audit.c.outcome.in_(["applied", "recovered"])
        )
        return int(conn.execute(query).scalar_one())


def pending_keys(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(idempotency.c.status == "pending")
        return int(conn.execute(query).scalar_one())


def creates_sent(sandbox: Sandbox, platform: str) -> int:
    return int(sandbox.stats()["by_route"].get(f"POST {CREATES[platform]}", 0))


# -- the sandbox's delay fault -----------------------------------------------------------------
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_delayed_create_is_committed_and_answered_after_the_client_gave_up(
    live: Sandbox, platform: str
) -> None:
    """The delay fault serves the request at once and holds its answer: the client's read
    timeout fires (OutcomeUnknown, not sent twice) and the record is already in the ITSM."""
    tag = uuid.uuid4().hex[:8]
    with closing(connector_for(platform, live.base_url, read_timeout=READ_TIMEOUT)) as c:
        list(c.find(IncidentRequest, Field("correlation_id") == "warm-up", limit=1))
        live.inject_delay(HELD, count=1, method="POST", path_prefix=CREATES[platform])
        record = conditions_plan(tag, 1).actions[0].record
        assert record is not None
        with pytest.raises(OutcomeUnknown, match="no answer came"):
            c.create(record.model_copy(update={"correlation_id": keys(tag, 1)[0]}))
        assert in_itsm(c, tag, 1) == [1]
    assert creates_sent(live, platform) == 1


# -- the executor over real HTTP ---------------------------------------------------------------
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_create_answered_after_the_read_timeout_is_one_incident_with_its_audit_row(
    live: Sandbox, engine: Engine, platform: str
) -> None:
    """Three conditions, the first create answered late: it is found by its key at once; three
    incident requests, three audit creates, and a second run sends no create."""
    tag = uuid.uuid4().hex[:8]
    with closing(connector_for(platform, live.base_url, read_timeout=READ_TIMEOUT)) as c:
        live.inject_delay(HELD, count=1, method="POST", path_prefix=CREATES[platform])
        report = Executor(c, engine).apply(conditions_plan(tag, 3))
        assert [o.outcome for o in report.outcomes] == ["recovered", "applied", "applied"]
        assert "answer was lost" in report.outcomes[0].detail
        assert in_itsm(c, tag, 3) == [1, 1, 1]
        assert audit_creates(engine) == 3 and pending_keys(engine) == 0
        live.reset_stats()
        again = Executor(c, engine).apply(conditions_plan(tag, 3))
        assert [o.outcome for o in again.outcomes] == ["skipped"] * 3
    assert creates_sent(live, platform) == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_create_whose_connection_dropped_is_created_once_by_the_next_run(
    live: Sandbox, engine: Engine, platform: str
) -> None:
    """The connection drops once the request was sent and the ITSM did not act: the outcome is
    unknown, nothing is found, the key stays pending; the next run looks and creates it once."""
    tag = uuid.uuid4().hex[:8]
    with closing(connector_for(platform, live.base_url)) as c:
        list(c.find(IncidentRequest, Field("correlation_id") == "warm-up", limit=1))
        live.inject_reset(count=1, method="POST", path_prefix=CREATES[platform])
        first = Executor(c, engine).apply(conditions_plan(tag, 2))
        assert [o.outcome for o in first.outcomes] == ["failed", "applied"]
        assert "outcome unknown" in first.outcomes[0].detail
        assert in_itsm(c, tag, 2) == [0, 1] and pending_keys(engine) == 1
        again = Executor(c, engine).apply(conditions_plan(tag, 2))
        assert [o.outcome for o in again.outcomes] == ["applied", "skipped"]
        assert in_itsm(c, tag, 2) == [1, 1]
    assert audit_creates(engine) == 2 and pending_keys(engine) == 0


# -- kill -9 between the ITSM's create and the outcome record --------------------------------
def main(platform: str, base_url: str, db_url: str, tag: str, count: str) -> None:
    """The process that is killed: applies the conditions plan with ordinary timeouts."""
    engine = open_engine(db_url)
    with closing(connector_for(platform, base_url)) as c:
        Executor(c, engine).apply(conditions_plan(tag, int(count)))


def run_until_killed(platform: str, sandbox: Sandbox, db_url: str, tag: str, count: int) -> None:
    """Start the plan in a process of its own; SIGKILL it once the sandbox has committed the
    first create, whose answer the delay fault holds."""
    sandbox.reset_stats()
    sandbox.inject_delay(HELD, count=1, method="POST", path_prefix=CREATES[platform])
    code = (
        "import sys; from tests.integration.test_unknown_outcomes import main; main(*sys.argv[1:])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, platform, sandbox.base_url, db_url, tag, str(count)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        deadline = time.monotonic() + 60
        while creates_sent(sandbox, platform) < 1:  # counted once the sandbox has committed it
            assert process.poll() is None, "the run ended before its first create was answered"
            assert time.monotonic() < deadline, "the first create never reached the sandbox"
            time.sleep(0.05)  # waiting on another process; no behaviour depends on the timing
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    "replayed",
    [
        pytest.param(True, id="the plan is replayed"),
        pytest.param(False, id="decided anew: the killed create is planned no more"),
    ],
)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_kill_between_the_create_and_its_record_is_recovered_by_the_next_run(
    live: Sandbox, db_url: str, platform: str, replayed: bool
) -> None:
    """Killed with the first of four incident requests created and unrecorded: the next run
    finds it by its key (by the replayed plan, or by its sweep of pending keys), audits its
    creation and creates the other three; four records, four audit creates, no pending key."""
    tag = uuid.uuid4().hex[:8]
    run_until_killed(platform, live, db_url, tag, 4)
    engine = open_engine(db_url)
    try:
        assert pending_keys(engine) == 1 and audit_creates(engine) == 0
        with closing(connector_for(platform, live.base_url)) as c:
            assert in_itsm(c, tag, 4) == [1, 0, 0, 0]
            plan = conditions_plan(tag, 4, skip=() if replayed else (0,))
            report = Executor(c, engine).apply(plan)
            outcomes = [o.outcome for o in report.outcomes]
            if replayed:
                assert outcomes == ["recovered", "applied", "applied", "applied"]
                assert report.swept == []
            else:
                assert outcomes == ["applied"] * 3
                assert report.swept == keys(tag, 1)
            assert in_itsm(c, tag, 4) == [1, 1, 1, 1]
        assert audit_creates(engine) == 4 and pending_keys(engine) == 0
    finally:
        engine.dispose()
