"""Work notes through journal fields, relations through references and cmdb_rel_ci."""

from __future__ import annotations

import pytest
import responses

from connector.entities import RecordKind, Relation, WorkNote
from connector.enums import NoteType, RelationType
from connector.errors import ConfigurationError
from connector.filters import Field
from connector.servicenow import ServiceNowConnector
from tests.connector.test_servicenow_records import (
    INCIDENT_ID,
    TABLE,
    body,
    listing,
    lookup,
    query,
)

PROBLEM_ID = "d" * 32
WEB = "f" * 32
DB = "9" * 32
DEPENDS_ON = "1a9cb166f1571100a92eb60da2bce5c5"  # "Depends on::Used by" [2.5]


def journal_row(n: int, element: str = "work_notes", parent: str = INCIDENT_ID) -> dict[str, str]:
    return {
        "sys_id": f"{n:032x}",
        "element_id": parent,
        "element": element,
        "name": "incident",
        "value": f"note {n} [smpm ref smpm-abc]",
        "sys_created_on": "2024-03-24 02:10:35",
        "sys_created_by": "smpm.integration",
    }


# -- work notes ------------------------------------------------------------------------------------
def test_add_note_patches_the_parent_journal_column(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A work note is a PATCH of work_notes on the incident; its summary is the first line."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC0010006"}])
    mocked.patch(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": {"sys_id": INCIDENT_ID}})

    sn.add_note(
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id="INC0010006",
            summary="Escalated to service owner",
            text="Incident Management P3: resolution target missed",
        )
    )

    text = "Escalated to service owner\n\nIncident Management P3: resolution target missed"
    assert body(mocked.calls[1]) == {"work_notes": text}


@pytest.mark.parametrize(
    ("note_type", "public", "column"),
    [
        (NoteType.GENERAL, False, "work_notes"),
        (NoteType.WORKING_LOG, False, "work_notes"),
        (NoteType.CUSTOMER_COMMUNICATION, False, "comments"),
        (NoteType.GENERAL, True, "comments"),
    ],
    ids=["general", "working log", "customer communication", "public"],
)
def test_notes_for_the_customer_go_to_comments(
    mocked: responses.RequestsMock,
    sn: ServiceNowConnector,
    note_type: NoteType,
    public: bool,
    column: str,
) -> None:
    """Comments are visible to the caller, work notes are not [2.9]."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC1"}])
    mocked.patch(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": {}})
    note = WorkNote(
        parent_kind=RecordKind.INCIDENT,
        parent_id="INC1",
        text="t",
        note_type=note_type,
        public=public,
    )
    sn.add_note(note)
    assert body(mocked.calls[-1]) == {column: "t"}


def test_notes_are_read_from_sys_journal_field(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The parent's number becomes its sys_id (element_id) and back, one query each way."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC0010006"}])
    listing(mocked, "sys_journal_field", [journal_row(1), journal_row(2, "comments")])

    where = (Field("parent_id") == "INC0010006") & Field("text").contains("smpm-abc")
    notes = list(sn.find(WorkNote, where, within=RecordKind.INCIDENT))

    assert query(mocked.calls[1])["sysparm_query"] == (
        f"name=incident^elementINcomments,work_notes^element_id={INCIDENT_ID}"
        "^valueLIKEsmpm-abc^ORDERBYsys_id"
    )
    assert [(n.parent_id, n.note_type, n.public, n.author) for n in notes] == [
        ("INC0010006", NoteType.GENERAL, False, "smpm.integration"),
        ("INC0010006", NoteType.CUSTOMER_COMMUNICATION, True, "smpm.integration"),
    ]
    assert len(mocked.calls) == 2  # the number -> sys_id lookup served the way back too


def test_notes_of_many_parents_name_their_parents_in_one_query(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Customer comments since a date, across incidents: one sys_idIN query for the numbers."""
    other = "7" * 32
    listing(
        mocked, "sys_journal_field", [journal_row(1, "comments"), journal_row(2, "comments", other)]
    )
    lookup(
        mocked,
        "incident",
        [{"sys_id": INCIDENT_ID, "number": "INC1"}, {"sys_id": other, "number": "INC2"}],
    )
    where = Field("note_type") == NoteType.CUSTOMER_COMMUNICATION
    notes = list(sn.find(WorkNote, where, within=RecordKind.INCIDENT))
    assert [n.parent_id for n in notes] == ["INC1", "INC2"]
    assert query(mocked.calls[0])["sysparm_query"] == (
        "name=incident^elementINcomments,work_notes^element=comments^ORDERBYsys_id"
    )
    assert query(mocked.calls[1])["sysparm_query"] == (
        f"sys_idIN{INCIDENT_ID},{other}^ORDERBYsys_id"
    )


def test_a_journal_hidden_by_its_acl_reads_as_no_notes(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """sys_journal_field answers [] to a user without its read ACL: no notes, no error [2.9]."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC1"}])
    listing(mocked, "sys_journal_field", [])
    notes = sn.find(WorkNote, Field("parent_id") == "INC1", within=RecordKind.INCIDENT)
    assert list(notes) == []


def test_notes_of_an_unknown_parent_are_none_without_asking(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """No incident has the number: the journal query matches nothing by construction."""
    lookup(mocked, "incident", [])
    listing(mocked, "sys_journal_field", [])
    list(sn.find(WorkNote, Field("parent_id") == "INC404", within=RecordKind.INCIDENT))
    assert "^sys_idISEMPTY^" in query(mocked.calls[1])["sysparm_query"]


# -- relations -------------------------------------------------------------------------------------
def test_relating_an_incident_to_a_problem_updates_the_incident(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """incident.problem_id holds the link [2.2]: a PATCH, not a new row."""
    lookup(mocked, "problem", [{"sys_id": PROBLEM_ID, "number": "PRB0040001"}])
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC0010006"}])
    mocked.patch(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": {}})

    sn.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id="INC0010006",
            target_kind=RecordKind.PROBLEM,
            target_id="PRB0040001",
            relation_type=RelationType.CAUSED_BY,
        )
    )

    assert body(mocked.calls[-1]) == {"problem_id": PROBLEM_ID}


def test_incident_relations_are_read_from_problem_id(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Only incidents with a problem are relations; the executor's replay check is one query."""
    row = {"sys_id": INCIDENT_ID, "number": "INC1", "problem_id": PROBLEM_ID}
    listing(mocked, "incident", [{**row, "problem_id.number": "PRB1"}])
    where = (
        (Field("source_id") == "INC1")
        & (Field("target_id") == "PRB1")
        & (Field("target_kind") == RecordKind.PROBLEM)  # task_ci holds CI links only: not asked
    )
    [found] = list(sn.find(Relation, where, within=RecordKind.INCIDENT))
    assert len(mocked.calls) == 1
    assert query(mocked.calls[0])["sysparm_query"] == (
        "problem_idISNOTEMPTY^number=INC1^problem_id.number=PRB1^ORDERBYsys_id"
    )
    assert (found.target_kind, found.target_id, found.relation_type) == (
        RecordKind.PROBLEM,
        "PRB1",
        RelationType.RELATED_TO,
    )


def test_an_incident_links_to_problems_only(sn: ServiceNowConnector) -> None:
    """problem_id cannot hold a change: a clear configuration error, nothing sent."""
    relation = Relation(
        source_kind=RecordKind.INCIDENT,
        source_id="INC1",
        target_kind=RecordKind.CHANGE,
        target_id="CHG1",
    )
    with pytest.raises(ConfigurationError, match="point at problem records only"):
        sn.relate(relation)


def test_an_incident_s_affected_cis_are_task_ci_rows(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Event Handling relates an outage to the CIs it impacts: the incident's Affected CIs."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC1"}])
    mocked.post(f"{TABLE}/task_ci", json={"result": {"sys_id": "1" * 32}}, status=201)
    sn.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id="INC1",
            target_kind=RecordKind.CI,
            target_id=WEB,
            relation_type=RelationType.IMPACTS,
        )
    )
    assert body(mocked.calls[-1]) == {"task": INCIDENT_ID, "ci_item": WEB}


def test_reading_an_incident_s_links_asks_both_places_unless_the_target_kind_is_named(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    row = {"sys_id": INCIDENT_ID, "number": "INC1", "problem_id": PROBLEM_ID}
    listing(mocked, "incident", [{**row, "problem_id.number": "PRB1"}])
    link = {"sys_id": "1" * 32, "task": INCIDENT_ID, "task.number": "INC1", "ci_item": WEB}
    listing(mocked, "task_ci", [link])
    found = list(sn.find(Relation, Field("source_id") == "INC1", within=RecordKind.INCIDENT))
    assert [(r.target_kind, r.target_id, r.relation_type) for r in found] == [
        (RecordKind.PROBLEM, "PRB1", RelationType.RELATED_TO),
        (RecordKind.CI, WEB, RelationType.IMPACTS),
    ]
    assert query(mocked.calls[1])["sysparm_query"] == "task.number=INC1^ORDERBYsys_id"
    mocked.calls.reset()
    to_cis = (Field("source_id") == "INC1") & (Field("target_kind") == RecordKind.CI)
    assert [r.target_id for r in sn.find(Relation, to_cis, within=RecordKind.INCIDENT)] == [WEB]
    assert len(mocked.calls) == 1


def test_a_ci_dependency_is_a_cmdb_rel_ci_row(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The parent depends on the child; the type is looked up by name in cmdb_rel_type [2.5]."""
    lookup(mocked, "cmdb_rel_type", [{"sys_id": DEPENDS_ON, "name": "Depends on::Used by"}])
    mocked.post(f"{TABLE}/cmdb_rel_ci", json={"result": {"sys_id": "1" * 32}}, status=201)

    sn.relate(
        Relation(
            source_kind=RecordKind.CI,
            source_id=WEB,
            target_kind=RecordKind.CI,
            target_id=DB,
            relation_type=RelationType.DEPENDS_ON,
        )
    )

    assert query(mocked.calls[0])["sysparm_query"] == "name=Depends on::Used by^ORDERBYsys_id"
    assert body(mocked.calls[1]) == {"parent": WEB, "child": DB, "type": DEPENDS_ON}


def test_ci_relations_read_their_type_by_name(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Other stock types read through read_aliases; a type the mapping lacks is reported."""
    rows = [
        {"sys_id": "1" * 32, "parent": WEB, "child": DB, "type.name": "Runs on::Runs"},
        {"sys_id": "2" * 32, "parent": WEB, "child": DB, "type.name": "Depends on::Used by"},
    ]
    listing(mocked, "cmdb_rel_ci", rows)
    listing(mocked, "cmdb_rel_ci", [{**rows[1], "type": DEPENDS_ON}])
    found = list(sn.find(Relation, Field("source_id") == WEB, within=RecordKind.CI))
    assert [r.relation_type for r in found] == [RelationType.DEPENDS_ON] * 2
    where = Field("relation_type") == RelationType.DEPENDS_ON
    assert len(list(sn.find(Relation, where, within=RecordKind.CI))) == 1
    assert query(mocked.calls[1])["sysparm_query"] == (
        "type.name=Depends on::Used by^ORDERBYsys_id"
    )
