"""Nothing lost, nothing twice: every pending key is settled by a look-up in the ITSM.

A key is committed as pending before its write is sent. It is still pending when the write's
outcome never came back: the process was killed after the ITSM acted (kill -9), the answer came
after the client's read timeout, or another worker holds it (an expired lease). In each case
the ITSM is asked for the write by its key (a record's correlation id, the key in a work note,
the link itself) before anything is written again; what it holds is recorded as recovered, with
its audit row, whether or not the plan being run still holds the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select

from connector.entities import IncidentRequest, ProblemInvestigation, RecordKind, Relation, WorkNote
from connector.enums import IncidentStatus, RelationType
from connector.errors import OutcomeUnknown, Rejected, Unavailable
from connector.testing import FakeConnector, incident
from procedures.plan import Action, ActionKind, Plan, Reason, Ref, note_action
from smpm.executor import Executor, idempotency_key
from smpm.pending import InFlight
from smpm.store import audit, idempotency, open_engine, pending_writes
from tests.postgres import BACKENDS, database_url
from tests.smpm.test_executor_batch import fake as batching
from tests.smpm.test_executor_batch import note

REASON = Reason(process="Event Management", procedure="P1 Test", rule="a new condition")
PROCEDURE = "test.recovery"


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The state store, on SQLite and on PostgreSQL: keys are claimed on both."""
    engine = open_engine(database_url(request, tmp_path))
    yield engine
    engine.dispose()


def register(condition: str) -> Action:
    return Action(
        kind=ActionKind.CREATE,
        step="register",
        trigger=f"condition:{condition}",
        reason=REASON,
        target_kind=RecordKind.INCIDENT,
        record=incident(summary=f"Condition {condition}", status=IncidentStatus.NEW),
    )


def plan_of(*actions: Action, trigger: str = "event:1") -> Plan:
    plan = Plan(procedure=PROCEDURE, trigger=trigger)
    for action in actions:
        plan.add(action)
    return plan


def register_and_link(condition: str) -> Plan:
    """A create and a link that needs the created record's id."""
    ref = Ref(trigger=f"condition:{condition}", step="register")
    link = Action(
        kind=ActionKind.RELATE,
        step="link",
        trigger=f"condition:{condition}",
        reason=REASON,
        target_kind=RecordKind.PROBLEM,
        target_id="PBI1",
        relation=Relation(
            source_kind=RecordKind.PROBLEM,
            source_id="PBI1",
            target_kind=RecordKind.INCIDENT,
            target_id="?",
            relation_type=RelationType.CAUSES,
        ),
        relation_target=ref,
    )
    return plan_of(register(condition), link)


def key_of(action: Action) -> str:
    return idempotency_key(PROCEDURE, action.trigger, action.step)


def created(fake: FakeConnector) -> int:
    return [w.operation for w in fake.writes].count("create")


def audit_creates(engine: Engine) -> int:
    """Audit rows that account for a record smpm created (applied, or found again)."""
    with engine.connect() as conn:
        query = select(func.count()).where(
            audit.c.action == "create", audit.c.outcome.in_(["applied", "recovered"])
        )
        return int(conn.execute(query).scalar_one())


def key_statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(idempotency.c.key, idempotency.c.status)).all())  # type: ignore[arg-type]


class Killed(FakeConnector):
    """The process dies around one write: `before` (the key is pending, nothing was sent) or
    `after` (the ITSM acted; the outcome was never recorded)."""

    die: str = ""

    def create(self, entity: Any) -> Any:
        if self.die == "before":
            self.die = ""
            raise SystemExit("killed before the create was sent")
        stored = super().create(entity)
        if self.die == "after":
            self.die = ""
            raise SystemExit("killed after the ITSM created the record")
        return stored

    def add_note(self, note: WorkNote) -> WorkNote:
        written = super().add_note(note)
        if self.die == "after":
            self.die = ""
            raise SystemExit("killed after the ITSM kept the note")
        return written


class Answers(FakeConnector):
    """The first create's answer never arrives: the ITSM acts on it `now`, `later` (after the
    executor's look-up: `commit_late`) or `never`, and the client is left with `error`. Later
    creates are answered."""

    acts: str = "now"
    error: Exception = OutcomeUnknown("POST /incident was sent but no answer came (timed out)")
    answered: bool = False
    late: list[Any] | None = None

    def create(self, entity: Any) -> Any:
        if self.answered:
            return super().create(entity)
        self.answered = True
        if self.acts == "now":
            super().create(entity)
        elif self.acts == "later":
            self.late = [entity]
        raise self.error

    def commit_late(self) -> None:
        """The ITSM finishes the create it was still working on."""
        for entity in self.late or []:
            FakeConnector.create(self, entity)
        self.late = None


# -- item 1: a key found pending is looked up before the create ------------------------------
class ReadsBeforeAnotherWorker(Executor):
    """Reads its keys, then another worker claims them (and dies) before this run marks them:
    what a worker taking an event over from an expired lease can meet."""

    other: Callable[[], None] = staticmethod(lambda: None)

    def _states(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found = super()._states(keys)
        other, self.other = self.other, lambda: None
        other()
        return found


@pytest.mark.parametrize(
    ("other_worker", "outcome"),
    [
        pytest.param("after", "recovered", id="the other worker created it: recovered"),
        pytest.param("before", "applied", id="the other worker died before sending: created"),
    ],
)
def test_a_create_another_worker_claimed_meanwhile_is_looked_up_first(
    engine: Engine, other_worker: str, outcome: str
) -> None:
    """The key was committed pending by another worker after this run read its keys: the
    record is looked up by its correlation id before creating; found -> recovered, else
    created, once either way."""
    fake = Killed()
    plan = plan_of(register("disk-full"))

    def another_worker() -> None:
        fake.die = other_worker
        with pytest.raises(SystemExit):
            Executor(fake, engine).apply(plan)

    ours = ReadsBeforeAnotherWorker(fake, engine)
    ours.other = another_worker
    report = ours.apply(plan)
    assert [o.outcome for o in report.outcomes] == [outcome]
    assert created(fake) == 1
    assert report.outcomes[0].result_id == next(iter(fake.records[RecordKind.INCIDENT]))
    assert audit_creates(engine) == 1
    assert set(key_statuses(engine).values()) == {"done"}


def test_a_batch_whose_keys_another_worker_claimed_meanwhile_writes_each_note_once(
    engine: Engine,
) -> None:
    """Batched work notes (ServiceNow's Batch API) whose keys another worker committed after
    this run read them: each is settled on its own, found by the key it carries."""
    itsm = batching("INC1", "INC2")
    plan = plan_of(note("INC1", "escalation-note"), note("INC2", "escalation-note"))

    def another_worker() -> None:
        itsm.die_after_batch = True
        with pytest.raises(SystemExit):
            Executor(itsm, engine).apply(plan)

    ours = ReadsBeforeAnotherWorker(itsm, engine)
    ours.other = another_worker
    report = ours.apply(plan)
    assert [o.outcome for o in report.outcomes] == ["recovered", "recovered"]
    assert [w.operation for w in itsm.writes].count("add_note") == 2
    assert set(key_statuses(engine).values()) == {"done"}


class FindsThenRaced(FakeConnector):
    """Runs `meanwhile` after answering one look-up: another run acts between this run's
    look-up and its write."""

    meanwhile: Callable[[], None] | None = None

    def find(self, model: Any, where: Any = None, **kw: Any) -> Iterator[Any]:
        rows = list(super().find(model, where, **kw))
        if self.meanwhile is not None and model is IncidentRequest:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return iter(rows)


def test_two_runs_retrying_one_pending_create_create_it_once(engine: Engine) -> None:
    """Both find the key pending and the record absent; one takes the write over and creates,
    the other sees the key taken and writes nothing."""
    fake = FindsThenRaced()
    plan = plan_of(register("disk-full"))
    dying = Killed()
    dying.die = "before"
    with pytest.raises(SystemExit):
        Executor(dying, engine).apply(plan)  # leaves the key pending, nothing created

    def the_other_run() -> None:
        assert Executor(fake, engine).apply(plan).outcomes[0].outcome == "applied"

    fake.meanwhile = the_other_run
    report = Executor(fake, engine).apply(plan)
    assert created(fake) == 1
    assert report.outcomes[0].outcome in ("skipped", "failed")
    assert audit_creates(engine) == 1
    assert set(key_statuses(engine).values()) == {"done"}


def test_a_worker_finding_the_create_in_flight_in_its_own_process_leaves_it(
    engine: Engine,
) -> None:
    """A second worker thread takes the event over (the first one's lease expired) while the
    first is still sending the create: the look-up could not see it yet, so the second leaves
    the write to the first instead of creating a second record; its retry finds it done."""
    plan = plan_of(register("disk-full"))
    in_flight = InFlight()
    second: list[Any] = []

    class Slow(FakeConnector):
        def create(self, entity: Any) -> Any:
            if not second:  # the first worker's create, still under way
                second.append(Executor(self, engine, in_flight=in_flight).apply(plan))
            return super().create(entity)

    fake = Slow()
    first = Executor(fake, engine, in_flight=in_flight).apply(plan)
    assert [o.outcome for o in first.outcomes] == ["applied"]
    assert [o.outcome for o in second[0].outcomes] == ["failed"]
    assert "another worker of this process is writing it" in second[0].outcomes[0].detail
    retry = Executor(fake, engine, in_flight=in_flight).apply(plan)
    assert [o.outcome for o in retry.outcomes] == ["skipped"]
    assert created(fake) == 1 and audit_creates(engine) == 1


def test_a_pending_key_with_no_recorded_attempt_is_looked_up_then_created_once(
    engine: Engine,
) -> None:
    """A key left pending by an older smpm (no attempt recorded beside it) is still looked up
    and then taken over: one record."""
    dying = Killed()
    dying.die = "before"
    with pytest.raises(SystemExit):
        Executor(dying, engine).apply(plan_of(register("disk-full")))
    with engine.begin() as conn:
        conn.execute(delete(pending_writes))
    fake = FakeConnector()
    report = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in report.outcomes] == ["applied"]
    assert fake.reads >= 1 and created(fake) == 1
    assert set(key_statuses(engine).values()) == {"done"}


# -- item 2: a create whose answer never came ------------------------------------------------
def test_a_create_the_itsm_made_though_the_answer_timed_out_is_recovered_at_once(
    engine: Engine,
) -> None:
    """Read timeout after the POST was sent: the record is looked up by its key at once; it is
    there, so the run goes on with its id (the link uses it) and the audit has its creation."""
    fake = Answers().add(ProblemInvestigation(id="PBI1", summary="Storage"))
    report = Executor(fake, engine).apply(register_and_link("disk-full"))
    assert [o.outcome for o in report.outcomes] == ["recovered", "applied"]
    (number,) = fake.records[RecordKind.INCIDENT]
    assert report.outcomes[0].result_id == number
    assert fake.relations[0].target_id == number
    assert "answer was lost" in report.outcomes[0].detail
    assert created(fake) == 1 and audit_creates(engine) == 1
    again = Executor(fake, engine).apply(register_and_link("disk-full"))
    assert [o.outcome for o in again.outcomes] == ["skipped", "skipped"]
    assert created(fake) == 1


@pytest.mark.parametrize(
    ("acts", "second"),
    [
        pytest.param("later", "recovered", id="committed after the look-up: found next run"),
        pytest.param("never", "applied", id="never acted on: created on the next run"),
    ],
)
def test_a_create_of_unknown_outcome_stays_pending_and_is_looked_up_again(
    engine: Engine, acts: str, second: str
) -> None:
    """Not found at once: the key stays pending and the failure says the outcome is unknown;
    the next run looks again before creating, so there is one record either way."""
    fake = Answers()
    fake.acts = acts
    first = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in first.outcomes] == ["failed"]
    assert "outcome unknown" in first.outcomes[0].detail
    assert set(key_statuses(engine).values()) == {"pending"}
    fake.commit_late()
    again = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in again.outcomes] == [second]
    assert len(fake.records[RecordKind.INCIDENT]) == 1
    assert audit_creates(engine) == 1


def test_a_create_refused_by_the_itsm_is_not_looked_up(engine: Engine) -> None:
    """A refusal (HTTP 400) is an answer: nothing was created, nothing to look for."""

    class Refuses(FakeConnector):
        def create(self, entity: Any) -> Any:
            raise Rejected("ServiceNow create: HTTP 400: Mandatory field missing")

    fake = Refuses()
    report = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in report.outcomes] == ["failed"]
    assert fake.reads == 0


def test_a_server_error_after_the_create_is_looked_up_too(engine: Engine) -> None:
    """A gateway's 504 (or a read-back that failed) after the POST: the ITSM may have acted,
    so the record is looked for before the failure is reported."""
    fake = Answers()
    fake.error = Unavailable("POST /incident: HTTP 504 Gateway Timeout", status=504)
    report = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in report.outcomes] == ["recovered"]
    assert audit_creates(engine) == 1


# -- item 4: every pending key is settled, not only those of the plan replayed ----------------
def killed_after_the_create(engine: Engine, fake: Killed, plan: Plan) -> None:
    fake.die = "after"
    with pytest.raises(SystemExit):
        Executor(fake, engine).apply(plan)


def test_a_record_created_before_a_kill_is_recovered_by_a_run_that_plans_it_no_more(
    engine: Engine,
) -> None:
    """The procedure now sees the record and plans no create (the event reads as already
    registered); the next run still finds the pending key's record and audits its creation."""
    fake = Killed()
    killed_after_the_create(engine, fake, plan_of(register("disk-full"), trigger="event:1"))
    assert audit_creates(engine) == 0
    (number,) = fake.records[RecordKind.INCIDENT]
    later = plan_of(
        note_action(
            on=RecordKind.INCIDENT,
            record=number,
            step="repeat-note",
            trigger="event:2",
            reason=REASON,
            summary="repeated",
            text="the condition repeated",
        ),
        trigger="event:2",
    )
    report = Executor(fake, engine).apply(later)
    assert [o.outcome for o in report.outcomes] == ["applied"]
    assert report.swept == [key_of(register("disk-full"))]
    assert created(fake) == 1 and audit_creates(engine) == 1
    assert set(key_statuses(engine).values()) == {"done"}
    with engine.connect() as conn:
        row = conn.execute(select(audit).where(audit.c.outcome == "recovered")).mappings().one()
    assert row["target_id"] == number
    assert row["procedure"] == PROCEDURE and row["step"] == "register"
    assert row["reason"] == str(REASON)
    assert row["fields"]["summary"] == "Condition disk-full"


def test_an_empty_plan_settles_pending_keys_too(engine: Engine) -> None:
    """A run with nothing to do (every condition already registered) still settles them."""
    fake = Killed()
    killed_after_the_create(engine, fake, plan_of(register("disk-full")))
    report = Executor(fake, engine).apply(plan_of())
    assert report.swept == [key_of(register("disk-full"))]
    assert audit_creates(engine) == 1


def test_a_pending_key_of_another_procedure_is_settled_with_its_own_names(engine: Engine) -> None:
    """The audit row of a recovered write names the procedure and step that decided it."""
    fake = Killed()
    other = Plan(procedure="other.procedure", trigger="t")
    other.add(register("cpu"))
    killed_after_the_create(engine, fake, other)
    Executor(fake, engine).apply(plan_of())
    with engine.connect() as conn:
        row = conn.execute(select(audit.c.procedure, audit.c.outcome)).one()
    assert tuple(row) == ("other.procedure", "recovered")


def test_a_pending_write_the_itsm_lacks_is_left_for_its_plan(engine: Engine) -> None:
    """Killed before the create was sent: nothing to recover and nothing written by the
    sweep; the key stays pending, and the plan's replay looks up and creates it once."""
    fake = Killed()
    fake.die = "before"
    with pytest.raises(SystemExit):
        Executor(fake, engine).apply(plan_of(register("disk-full")))
    report = Executor(fake, engine).apply(plan_of())
    assert report.swept == [] and fake.writes == []
    assert set(key_statuses(engine).values()) == {"pending"}
    replay = Executor(fake, engine).apply(plan_of(register("disk-full")))
    assert [o.outcome for o in replay.outcomes] == ["applied"]
    assert created(fake) == 1 and audit_creates(engine) == 1


def test_a_work_note_written_before_a_kill_is_recovered_by_another_plan(engine: Engine) -> None:
    """Work notes carry their key in the text: found there, recovered with an audit row."""
    fake = Killed().add(incident(id="INC1", status=IncidentStatus.NEW))
    note = note_action(
        on=RecordKind.INCIDENT,
        record="INC1",
        step="note",
        trigger="incident:INC1",
        reason=REASON,
        summary="s",
        text="Routed",
    )
    fake.die = "after"
    with pytest.raises(SystemExit):
        Executor(fake, engine).apply(plan_of(note))
    report = Executor(fake, engine).apply(plan_of())
    assert report.swept == [key_of(note)]
    with engine.connect() as conn:
        rows = conn.execute(select(audit.c.action, audit.c.outcome, audit.c.target_id)).all()
    assert [tuple(r) for r in rows] == [("add_note", "recovered", "INC1")]


def test_the_writer_and_a_sweep_account_for_a_create_once(engine: Engine) -> None:
    """A sweep on another node finds the record while its writer is still waiting for the
    answer; when the writer records its outcome, no second audit row is written."""
    plan = plan_of(register("disk-full"))

    class SweptMeanwhile(FakeConnector):
        def create(self, entity: Any) -> Any:
            stored = super().create(entity)
            assert Executor(self, engine).recover_pending() == []  # this node's: in flight
            other_node = Executor(self, engine, in_flight=InFlight())
            assert other_node.recover_pending() == [key_of(register("disk-full"))]
            return stored

    fake = SweptMeanwhile()
    report = Executor(fake, engine).apply(plan)
    assert [o.outcome for o in report.outcomes] == ["applied"]
    assert audit_creates(engine) == 1
    assert set(key_statuses(engine).values()) == {"done"}


def test_a_sweep_that_cannot_reach_the_itsm_changes_nothing(engine: Engine) -> None:
    """The ITSM does not answer: the sweep stops at the first look-up (one timeout, not one per
    key), the keys stay pending for a later sweep, and the plan still runs."""

    class KilledAfterTwo(FakeConnector):
        def create(self, entity: Any) -> Any:
            stored = super().create(entity)
            if created(self) == 2:
                raise SystemExit("killed after the second create")
            return stored

    fake = KilledAfterTwo()
    with pytest.raises(SystemExit):  # the first create is recorded, the second not
        Executor(fake, engine).apply(plan_of(register("disk-full"), register("cpu-high")))
    fake.add(incident(id="INC9", correlation_id="smpm-left-pending"))
    with engine.begin() as conn:  # and one more left pending by another run
        intent = dict(conn.execute(select(pending_writes)).mappings().one())
        conn.execute(
            insert(idempotency).values(
                key="smpm-left-pending",
                procedure=PROCEDURE,
                trigger="condition:other",
                step="register",
                status="pending",
                created_at=intent["started_at"],
                updated_at=intent["started_at"],
            )
        )
        conn.execute(insert(pending_writes).values({**intent, "key": "smpm-left-pending"}))

    class Down(FakeConnector):
        def find(self, *args: Any, **kw: Any) -> Iterator[Any]:
            self.reads += 1
            raise Unavailable("GET /incident: connection refused")

    down = Down()
    report = Executor(down, engine).apply(plan_of(register("memory")))
    assert report.swept == [] and down.reads == 1
    assert [o.outcome for o in report.outcomes] == ["applied"]
    assert list(key_statuses(engine).values()).count("pending") == 2
    assert len(Executor(fake, engine).recover_pending()) == 2
    assert audit_creates(engine) == 4
