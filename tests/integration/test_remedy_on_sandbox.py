"""The Remedy connector against the sandbox ITSM over real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.codec import load_platform_mapping
from connector.entities import (
    ConfigurationItem,
    IncidentRequest,
    ProblemInvestigation,
    RecordKind,
    Relation,
    SupportGroup,
    WorkNote,
)
from connector.enums import (
    Impact,
    IncidentStatus,
    ProblemStatus,
    RelationType,
    ReportedSource,
    ServiceType,
    Urgency,
)
from connector.errors import FormNotFound, NotFound, RateLimited, Rejected, Unavailable
from connector.filters import Field
from connector.remedy import RemedyConnector
from mappings.loader import PlatformMapping
from procedures.plan import Action, ActionKind, Plan, Reason
from sandbox.server import DEMO_USER, Sandbox
from smpm.executor import Executor
from smpm.store import open_engine
from tests.connector.conftest import Sleeps
from tests.integration.conftest import remedy_for

pytestmark = pytest.mark.integration


def new_incident(summary: str, **fields: object) -> IncidentRequest:
    base: dict[str, object] = {
        "summary": summary,
        "status": IncidentStatus.NEW,
        "impact": Impact.MODERATE,
        "urgency": Urgency.MEDIUM,
        "service_type": ServiceType.USER_SERVICE_RESTORATION,
        "reported_source": ReportedSource.DIRECT_INPUT,
        "customer": DEMO_USER,
    }
    return IncidentRequest(**{**base, **fields})


def api_calls(sandbox: Sandbox, prefix: str = "/api/arsys") -> int:
    """Requests the sandbox answered whose path starts with `prefix` (any method)."""
    routes = sandbox.stats()["by_route"]
    return sum(n for route, n in routes.items() if route.split(" ", 1)[1].startswith(prefix))


def test_round_trip_create_get_update_relate_note(remedy_live: RemedyConnector) -> None:
    """Create through the interface form, read back the Request ID, update, link, note."""
    created = remedy_live.create(new_incident("Round trip", correlation_id="smpm-rt-1"))
    assert created.id and created.id.startswith("INC")
    assert created.platform_id and created.platform_id != created.id
    assert created.platform_id.endswith("|" + created.platform_id.split("|")[0])
    assert created.priority is not None
    remedy_live.update(
        IncidentRequest,
        created,
        {"assigned_group": "Service Desk", "status": IncidentStatus.ASSIGNED},
    )
    problem = remedy_live.create(
        ProblemInvestigation(
            summary="Round trip problem",
            status=ProblemStatus.UNDER_REVIEW,
            impact=Impact.MODERATE,
            urgency=Urgency.MEDIUM,
        )
    )
    assert problem.id and problem.id.startswith("PBI")
    remedy_live.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id=created.id,
            target_kind=RecordKind.PROBLEM,
            target_id=problem.id,
            relation_type=RelationType.CAUSED_BY,
        )
    )
    remedy_live.add_note(
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id=created.id,
            summary="hello",
            text="first note",
        )
    )
    after = remedy_live.get(IncidentRequest, created.id)
    assert (after.status, after.assigned_group) == (IncidentStatus.ASSIGNED, "Service Desk")
    links = list(
        remedy_live.find(Relation, Field("source_id") == created.id, within=RecordKind.INCIDENT)
    )
    assert [(r.target_kind, r.target_id, r.relation_type) for r in links] == [
        (RecordKind.PROBLEM, problem.id, RelationType.CAUSED_BY)
    ]
    back = list(
        remedy_live.find(Relation, Field("source_id") == problem.id, within=RecordKind.PROBLEM)
    )
    assert [(r.target_kind, r.target_id) for r in back] == [(RecordKind.INCIDENT, created.id)]
    notes = list(
        remedy_live.find(WorkNote, Field("parent_id") == created.id, within=RecordKind.INCIDENT)
    )
    assert [n.text for n in notes] == ["first note"]
    found = list(remedy_live.find(IncidentRequest, Field("correlation_id") == "smpm-rt-1"))
    assert [f.id for f in found] == [created.id]


def test_paging_reads_every_row_once_in_order(
    live: Sandbox, remedy_mapping: PlatformMapping
) -> None:
    """2,000 generated incidents in pages of 150: every row once, in the requested order."""
    live.generate_incidents(2000)
    with remedy_for(live, remedy_mapping, page_size=150) as remedy:
        ids = [i.id for i in remedy.find(IncidentRequest)]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 2000
    assert ids == sorted(ids)
    pages = -(-len(ids) // 150)
    assert api_calls(live, "/api/arsys/v1/entry/HPD:IncidentInterface") == pages


def test_an_expired_token_is_renewed(live: Sandbox, remedy_live: RemedyConnector) -> None:
    """The server forgets every token; the connector logs in again once and carries on."""
    list(remedy_live.find(SupportGroup))
    assert remedy_live.auth.logins == 1
    live.expire_tokens()
    groups = list(remedy_live.find(SupportGroup))
    assert groups and remedy_live.auth.logins == 2


def test_injected_503s_and_429s_are_recovered_by_retry(
    live: Sandbox, remedy_mapping: PlatformMapping
) -> None:
    """Two 503s, then a 429 with Retry-After 2: all retried, the waits recorded, no real sleep."""
    sleeps = Sleeps()
    with remedy_for(live, remedy_mapping, sleeps=sleeps, attempts=5) as remedy:
        list(remedy.find(SupportGroup, limit=1))
        live.inject(status=503, count=2, path_prefix="/api/arsys")
        live.inject(status=429, count=1, retry_after=2, path_prefix="/api/arsys")
        groups = list(remedy.find(SupportGroup))
    assert len(groups) == 10
    assert len(sleeps.calls) == 3
    assert sleeps.calls[-1] == 2.0


def test_persistent_outage_ends_as_unavailable(
    live: Sandbox, remedy_mapping: PlatformMapping
) -> None:
    sleeps = Sleeps()
    with remedy_for(live, remedy_mapping, sleeps=sleeps, attempts=3) as remedy:
        list(remedy.find(SupportGroup, limit=1))
        live.inject(status=503, count=10, path_prefix="/api/arsys")
        with pytest.raises(Unavailable, match="HTTP 503"):
            list(remedy.find(SupportGroup))
    assert len(sleeps.calls) == 2


def test_rate_limit_that_never_ends_is_reported(
    live: Sandbox, remedy_mapping: PlatformMapping
) -> None:
    with remedy_for(live, remedy_mapping, attempts=2) as remedy:
        list(remedy.find(SupportGroup, limit=1))
        live.inject(status=429, count=5, retry_after=1, path_prefix="/api/arsys")
        with pytest.raises(RateLimited):
            list(remedy.find(SupportGroup))


def test_a_non_retryable_400_is_surfaced_once(live: Sandbox, remedy_live: RemedyConnector) -> None:
    """A 400 is the server's final word: one request, the AR message in the exception."""
    list(remedy_live.find(SupportGroup, limit=1))
    live.reset_stats()
    live.inject(status=400, count=1, path_prefix="/api/arsys")
    with pytest.raises(Rejected):
        list(remedy_live.find(SupportGroup))
    assert api_calls(live) == 1


def test_a_dropped_connection_is_retried(live: Sandbox, remedy_mapping: PlatformMapping) -> None:
    with remedy_for(live, remedy_mapping, attempts=3) as remedy:
        list(remedy.find(SupportGroup, limit=1))
        live.inject_reset(count=1, path_prefix="/api/arsys")
        assert len(list(remedy.find(SupportGroup))) == 10


def test_a_slow_answer_times_out_and_is_retried(
    live: Sandbox, remedy_mapping: PlatformMapping
) -> None:
    """A read timeout on a GET is retried; the second answer comes in time."""
    with remedy_for(live, remedy_mapping, attempts=3, read_timeout=0.3) as remedy:
        list(remedy.find(SupportGroup, limit=1))
        live.inject_delay(1.0, count=1, path_prefix="/api/arsys")
        assert len(list(remedy.find(SupportGroup))) == 10


def test_a_missing_form_is_reported_by_name(live: Sandbox) -> None:
    """A mapping that names a form the server lacks fails with Remedy's 303, naming the form."""
    mapping = load_platform_mapping(
        "remedy", {"kinds": {"support_group": {"form": "CTM:Support Groups"}}}
    )
    with remedy_for(live, mapping) as remedy, pytest.raises(FormNotFound) as caught:
        list(remedy.find(SupportGroup))
    assert "ERROR (303)" in str(caught.value)
    assert "CTM:Support Groups" in str(caught.value)


def test_a_missing_record_is_not_found(remedy_live: RemedyConnector) -> None:
    with pytest.raises(NotFound):
        remedy_live.get(IncidentRequest, "INC999999999999")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
)
def test_any_value_finds_exactly_its_own_record(remedy_live: RemedyConnector, text: str) -> None:
    """End to end: whatever a summary holds, a search for it finds that record and no other."""
    created = remedy_live.create(new_incident(text.strip() or "x"))
    hits = list(
        remedy_live.find(
            IncidentRequest, (Field("summary") == created.summary) & (Field("id") == created.id)
        )
    )
    assert [h.id for h in hits] == [created.id]
    like = list(remedy_live.find(IncidentRequest, Field("summary").contains(created.summary or "")))
    assert created.id in {h.id for h in like}


def test_cmdb_dependencies_read_as_depends_on(remedy_live: RemedyConnector) -> None:
    """BMC_Dependency rows (Destination depends on Source) read as 'web depends_on app'."""
    names = {c.id: c.name for c in remedy_live.find(ConfigurationItem)}
    pairs = {
        (names.get(r.source_id), names.get(r.target_id))
        for r in remedy_live.find(Relation, within=RecordKind.CI)
        if r.relation_type is RelationType.DEPENDS_ON
    }
    assert ("lb-bank-01", "web-bank-01") in pairs
    assert ("web-bank-01", "lb-bank-01") not in pairs
    assert ("db-node-01", "san-array-01") in pairs


def new_problem(remedy: RemedyConnector, summary: str) -> str:
    problem = remedy.create(
        ProblemInvestigation(
            summary=summary,
            status=ProblemStatus.UNDER_REVIEW,
            impact=Impact.MODERATE,
            urgency=Urgency.MEDIUM,
        )
    )
    assert problem.id
    return problem.id


def link(
    source: tuple[RecordKind, str], kind: RelationType, target: tuple[RecordKind, str]
) -> Relation:
    return Relation(
        source_kind=source[0],
        source_id=source[1],
        target_kind=target[0],
        target_id=target[1],
        relation_type=kind,
    )


def links_of(remedy: RemedyConnector, kind: RecordKind, owner: str) -> set[tuple[str, str, str]]:
    return {
        (r.target_kind.value, r.target_id, r.relation_type.value)
        for r in remedy.find(Relation, Field("source_id") == owner, within=kind)
    }


def test_a_relation_listing_reads_the_reciprocal_rows(remedy_live: RemedyConnector) -> None:
    """Each link is a row on both records, with its type as seen from there [4.4]: the listing
    of any of them reads it, none fails."""
    original = remedy_live.create(new_incident("Mail down")).id
    duplicate = remedy_live.create(new_incident("Mail down too")).id
    assert original and duplicate
    problem = new_problem(remedy_live, "Mail relay crashes")
    INC, PBI = RecordKind.INCIDENT, RecordKind.PROBLEM
    remedy_live.relate(link((INC, original), RelationType.CAUSED_BY, (PBI, problem)))
    remedy_live.relate(link((INC, duplicate), RelationType.DUPLICATE_OF, (INC, original)))
    remedy_live.relate(link((PBI, problem), RelationType.RESOLVES, (INC, duplicate)))

    assert links_of(remedy_live, INC, original) == {
        ("problem", problem, "caused_by"),
        ("incident", duplicate, "original_of"),
    }
    assert links_of(remedy_live, INC, duplicate) == {
        ("incident", original, "duplicate_of"),
        ("problem", problem, "resolved_by"),
    }
    assert links_of(remedy_live, PBI, problem) == {
        ("incident", original, "causes"),
        ("incident", duplicate, "resolves"),
    }


def test_relating_again_either_way_round_is_skipped(
    remedy_live: RemedyConnector, tmp_path: Path
) -> None:
    """The executor relates an incident to its problem once; the same link asked for again,
    from the incident or from the problem, is skipped and leaves one row on each form."""
    incident = remedy_live.create(new_incident("Payroll batch fails")).id
    assert incident
    problem = new_problem(remedy_live, "Payroll batch runs out of memory")
    INC, PBI = RecordKind.INCIDENT, RecordKind.PROBLEM
    engine = open_engine(f"sqlite:///{tmp_path / 'state.db'}")
    executor = Executor(remedy_live, engine)

    def relate(trigger: str, relation: Relation) -> list[tuple[str, str]]:
        plan = Plan(procedure="test.relate", trigger=trigger)
        plan.add(
            Action(
                kind=ActionKind.RELATE,
                step="link",
                trigger=trigger,
                reason=Reason(process="Problem Management", procedure="P1", rule="test"),
                target_kind=relation.source_kind,
                target_id=relation.source_id,
                relation=relation,
            )
        )
        return [(o.outcome, o.detail) for o in executor.apply(plan).outcomes]

    assert relate("first", link((INC, incident), RelationType.CAUSED_BY, (PBI, problem))) == [
        ("applied", "")
    ]
    assert relate("again", link((INC, incident), RelationType.CAUSED_BY, (PBI, problem))) == [
        ("skipped", "already related")
    ]
    assert relate("reverse", link((PBI, problem), RelationType.CAUSES, (INC, incident))) == [
        ("skipped", "already related")
    ]
    rows = [
        list(remedy_live.list_entries(form, qualification=f"'Request ID02' = \"{owner}\""))
        for form, owner in (
            ("HPD:Associations", incident),
            ("PBM:Investigation Associations", problem),
        )
    ]
    assert [[r["Association Type01"] for r in found] for found in rows] == [
        ["Caused By"],
        ["Caused"],
    ]
    engine.dispose()
