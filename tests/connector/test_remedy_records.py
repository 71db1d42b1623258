"""The Remedy connector reads and writes records as the recorded real servers answered."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import responses

from connector.entities import (
    Change,
    IncidentRequest,
    KnownError,
    Person,
    ProblemInvestigation,
    RecordKind,
    Relation,
    SupportGroup,
    Task,
    WorkNote,
)
from connector.enums import (
    ChangeTiming,
    Impact,
    IncidentStatus,
    KnownErrorStatus,
    NoteType,
    Priority,
    ProblemStatus,
    RelationType,
    ReportedSource,
    ServiceType,
    TaskStatus,
    Urgency,
)
from connector.filters import Field
from connector.remedy import RemedyConnector
from tests.conftest import recorded
from tests.connector.conftest import REMEDY_URL, TOKEN, login_ok

ENTRY = f"{REMEDY_URL}/api/arsys/v1/entry"


def query(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def test_get_incident_parses_the_recorded_record(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """HPD:IncidentInterface as a real server sent it becomes an SMPM incident request."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json=recorded("remedy", "get_incident.json"))

    incident = remedy.get(IncidentRequest, "INC000000000430")

    assert incident.id == "INC000000000430"
    assert incident.platform_id == "INC000000000527|INC000000000527"
    assert incident.status is IncidentStatus.RESOLVED
    assert (incident.impact, incident.urgency, incident.priority) == (
        Impact.SIGNIFICANT,
        Urgency.CRITICAL,
        Priority.CRITICAL,
    )
    assert incident.service_type is ServiceType.USER_SERVICE_RESTORATION
    assert incident.reported_source is ReportedSource.WEB
    assert (incident.assigned_group, incident.assignee, incident.customer) == (
        "Service Desk",
        "Allen",
        "Mary",
    )
    assert incident.created_at == datetime(2022, 6, 21, 11, 8, 5, tzinfo=UTC)
    assert incident.resolved_at == datetime(2022, 6, 21, 16, 12, 34, tzinfo=UTC)
    assert (incident.status_reason, incident.resolution) == ("Monitoring Incident", "test")

    call = mocked.calls[-1]
    assert call.request.headers["Authorization"] == f"AR-JWT {TOKEN}"
    params = query(call)
    assert params["q"] == "'Incident Number' = \"INC000000000430\""
    assert params["fields"].startswith("values(Incident Number,Request ID,")
    assert params["limit"] == "1"
    assert params["offset"] == "0"


def test_update_puts_only_the_changes_to_the_request_id(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """The PUT goes to the join's `ID|ID` Request ID (encoded %7C), not the Incident Number."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json=recorded("remedy", "get_incident.json"))
    target = f"{ENTRY}/HPD:IncidentInterface/INC000000000527%7CINC000000000527"
    mocked.put(target, status=204)

    remedy.update(IncidentRequest, "INC000000000430", {"status": IncidentStatus.CLOSED})

    put = mocked.calls[-1]
    assert put.request.url == target
    assert json.loads(put.request.body) == {"values": {"Status": "Closed"}}


def test_create_incident_goes_through_the_create_form_and_reads_back(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Create on HPD:IncidentInterface_Create with z1D_Action, then re-query for the Request ID."""
    login_ok(mocked)
    mocked.post(
        f"{ENTRY}/HPD:IncidentInterface_Create",
        json=recorded("remedy", "incident_create.json"),
        status=201,
    )
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json=recorded("remedy", "get_incident.json"))
    new = IncidentRequest(
        summary="Online banking login page times out",
        details="Reported by many users since 09:10",
        status=IncidentStatus.NEW,
        impact=Impact.SIGNIFICANT,
        urgency=Urgency.HIGH,
        service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
        reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
        customer="Mary",
        correlation_id="smpm:event-handling:ev-1:create",
    )

    created = remedy.create(new)

    post = mocked.calls[1]
    assert query(post) == {"fields": "values(Incident Number)"}
    assert json.loads(post.request.body) == {
        "values": {
            "z1D_Action": "CREATE",
            "Description": "Online banking login page times out",
            "Detailed_Decription": "Reported by many users since 09:10",
            "Status": "New",
            "Impact": "2-Significant/Large",
            "Urgency": "2-High",
            "Service_Type": "Infrastructure Restoration",
            "Reported Source": "Systems Management",
            "Login_ID": "Mary",
            "Vendor Ticket Number": "smpm:event-handling:ev-1:create",
        }
    }
    assert query(mocked.calls[2])["q"] == "'Incident Number' = \"INC000000000430\""
    assert created.id == "INC000000000430"
    assert created.platform_id == "INC000000000527|INC000000000527"


def test_create_without_a_body_follows_the_location(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Remedy 25.2+ may answer 201 with no body: the new entry's number is read from it."""
    login_ok(mocked)
    location = f"{ENTRY}/HPD:IncidentInterface_Create/000000000000123"
    mocked.post(f"{ENTRY}/HPD:IncidentInterface_Create", status=201, headers={"Location": location})
    mocked.get(location, json={"values": {"Incident Number": "INC000000000430"}, "_links": {}})
    mocked.get(f"{ENTRY}/HPD:IncidentInterface", json=recorded("remedy", "get_incident.json"))

    created = remedy.create(IncidentRequest(summary="x", status=IncidentStatus.NEW))

    assert query(mocked.calls[2]) == {"fields": "values(Incident Number)"}
    assert created.id == "INC000000000430"


def test_problem_create_and_read(mocked: responses.RequestsMock, remedy: RemedyConnector) -> None:
    """PBM:ProblemInterface_Create with z1D_Action PROBLEM; read back on PBM:ProblemInterface."""
    login_ok(mocked)
    mocked.post(
        f"{ENTRY}/PBM:ProblemInterface_Create",
        json=recorded("remedy", "create_prob.json"),
        status=201,
    )
    mocked.get(f"{ENTRY}/PBM:ProblemInterface", json=recorded("remedy", "get_prob.json"))

    problem = remedy.create(
        ProblemInvestigation(summary="REST API Test problem creation", status=ProblemStatus.DRAFT)
    )

    body = json.loads(mocked.calls[1].request.body)["values"]
    assert body["z1D_Action"] == "PROBLEM"
    assert body["Status"] == "Draft"
    assert query(mocked.calls[1]) == {"fields": "values(Problem Investigation ID)"}
    assert query(mocked.calls[2])["q"] == "'Problem Investigation ID' = \"PBI000000000402\""
    assert problem.status is ProblemStatus.ASSIGNED
    assert problem.problem_coordinator == "Bob"
    assert problem.assigned_group == "Backoffice Support"
    assert problem.target_resolution_at == datetime(2023, 6, 25, 16, 19, 29, tzinfo=UTC)


def test_known_error_create_and_read(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Known errors are created on the problem create form with z1D_Action KNOWNERROR."""
    login_ok(mocked)
    created, read = (
        recorded("remedy", "create_known_error.json"),
        recorded("remedy", "get_known_error.json"),
    )
    # The two recordings are of different known errors: the create answer names the read one,
    # since the read back must find the record it asks for (the connector checks it does).
    created["values"]["Known Error ID"] = read["entries"][0]["values"]["Known Error ID"]
    mocked.post(f"{ENTRY}/PBM:ProblemInterface_Create", json=created, status=201)
    mocked.get(f"{ENTRY}/PBM:KnownErrorInterface", json=read)

    known = remedy.create(KnownError(summary="New Error API", status=KnownErrorStatus.ASSIGNED))

    assert json.loads(mocked.calls[1].request.body)["values"]["z1D_Action"] == "KNOWNERROR"
    assert query(mocked.calls[2])["q"] == "'Known Error ID' = \"PKE000000000250\""
    assert known.status is KnownErrorStatus.ASSIGNED
    assert known.platform_id == "PKE000000000230|PKE000000000230"
    assert known.resolution == "error resolution"


def test_change_create_uses_the_create_form_spelling(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """The create answer spells 'Infrastructure Change Id', the read form '... Change ID'."""
    login_ok(mocked)
    mocked.post(
        f"{ENTRY}/CHG:ChangeInterface_Create",
        json=recorded("remedy", "create_change_request.json"),
        status=201,
    )
    mocked.get(
        f"{ENTRY}/CHG:ChangeInterface",
        json={
            "entries": [
                {
                    "values": {
                        "Infrastructure Change ID": "CRQ000000000109",
                        "Request ID": "CRQ000000000109|CRQ000000000109",
                        "Change Request Status": "Draft",
                        "Change Timing": "Emergency",
                    }
                }
            ]
        },
    )

    change = remedy.create(Change(summary="Add storage", timing=ChangeTiming.EMERGENCY))

    body = json.loads(mocked.calls[1].request.body)["values"]
    assert body["Timing"] == "Emergency"
    assert body["z1D_Action"] == "CREATE"
    assert query(mocked.calls[1]) == {"fields": "values(Infrastructure Change Id)"}
    assert change.id == "CRQ000000000109"
    assert change.timing is ChangeTiming.EMERGENCY


def test_task_create_and_read(mocked: responses.RequestsMock, remedy: RemedyConnector) -> None:
    """TMS:Task is both the create and the read form; its login lives in 'Assigned To'."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/TMS:Task", json=recorded("remedy", "create_task.json"), status=201)
    mocked.get(f"{ENTRY}/TMS:Task", json=recorded("remedy", "get_task.json"))

    task = remedy.create(Task(summary="asdsadsadad", parent_id="INC000000000420"))

    assert query(mocked.calls[1]) == {"fields": "values(Task ID)"}
    assert task.id == "TAS000000000409"
    assert task.status is TaskStatus.WORK_IN_PROGRESS
    assert (task.assignee, task.assigned_group, task.sequence) == ("Ian", "Frontoffice Support", 1)
    assert task.parent_form == "HPD:Help Desk"


def test_paging_follows_next_but_stays_on_the_configured_host(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """_links.next names an internal host; page two is asked of our base URL with our query."""
    login_ok(mocked)
    page_one = recorded("remedy", "list_support_group.json")
    page_two = {"entries": [], "_links": {"self": [{"href": "x"}]}}
    mocked.get(f"{ENTRY}/CTM:Support%20Group", json=page_one)
    mocked.get(f"{ENTRY}/CTM:Support%20Group", json=page_two)

    companies = Field("company").one_of("Apex Global", "Calbro Services")  # the recorded two
    groups = list(remedy.find(SupportGroup, companies))

    assert [g.name for g in groups] == [
        "Apex Global - Facilities",
        "Application Development / Deployment",
    ]
    assert groups[0].on_call is False
    second = mocked.calls[2]
    assert urlsplit(second.request.url).netloc == "itsm.example.com:8443"
    params = query(second)
    assert (params["offset"], params["limit"]) == ("2", "2")
    assert params["q"] == "('Company' = \"Apex Global\" OR 'Company' = \"Calbro Services\")"
    assert params["sort"] == "Support Group ID.asc"


def test_listing_is_lazy_and_reads_one_page_ahead(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Nothing is fetched before rows are consumed; then at most the next page is fetched early."""
    login_ok(mocked)
    page = recorded("remedy", "list_support_group.json")
    mocked.get(f"{ENTRY}/CTM:Support%20Group", json=page)
    rows = remedy.find(SupportGroup)
    assert len(mocked.calls) == 0
    first = next(iter(rows))
    remedy._prefetch.submit(lambda: None).result()  # let the read-ahead finish
    assert first.id == "APX990000000029"
    offsets = [query(c).get("offset") for c in mocked.calls[1:]]
    assert offsets == ["0", "2"]  # the first page, and the one page read ahead


def test_people_are_read_from_ctm_people(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """CTM:People rows become people with their login and availability."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/CTM:People", json=recorded("remedy", "list_users.json"))
    people = list(remedy.find(Person, Field("company") == "Calbro Services"))
    assert [(p.login, p.available) for p in people] == [("appadmin", False), ("Qmasters", False)]


def test_work_notes_are_read_from_the_parent_kinds_work_log(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """HPD:WorkLog entries of an incident become work notes (attachments ignored)."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:WorkLog", json=recorded("remedy", "list_worklogs.json"))

    notes = list(
        remedy.find(WorkNote, Field("parent_id") == "INC000010381027", within=RecordKind.INCIDENT)
    )

    assert len(notes) == 1
    note = notes[0]
    assert (note.parent_kind, note.parent_id) == (RecordKind.INCIDENT, "INC000010381027")
    assert (note.note_type, note.public, note.author) == (NoteType.GENERAL, True, "xsoar")
    assert query(mocked.calls[1])["q"] == "'Incident Number' = \"INC000010381027\""


def test_add_note_posts_a_work_log_entry(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A work note is a new HPD:WorkLog entry tied by Incident Number."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/HPD:WorkLog", status=201)

    remedy.add_note(
        WorkNote(
            parent_kind=RecordKind.INCIDENT,
            parent_id="INC000000000430",
            summary="Escalated to service owner",
            text="Incident Management P3: resolution target missed",
        )
    )

    assert json.loads(mocked.calls[1].request.body) == {
        "values": {
            "Description": "Escalated to service owner",
            "Detailed Description": "Incident Management P3: resolution target missed",
            "Work Log Type": "General Information",
            "View Access": "Internal",
            "Incident Number": "INC000000000430",
        }
    }


def test_relate_writes_an_association_row(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Incident -> problem links are HPD:Associations rows naming the problem's base form."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/HPD:Associations", status=201)

    remedy.relate(
        Relation(
            source_kind=RecordKind.INCIDENT,
            source_id="INC000000000430",
            target_kind=RecordKind.PROBLEM,
            target_id="PBI000000000402",
            relation_type=RelationType.CAUSED_BY,
        )
    )

    assert json.loads(mocked.calls[1].request.body) == {
        "values": {
            "Request ID02": "INC000000000430",
            "Request ID01": "PBI000000000402",
            "Association Type01": "Caused By",
            "Form Name01": "PBM:Problem Investigation",
            "Request Type01": "Problem Investigation",
        }
    }
