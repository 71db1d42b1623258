"""The ServiceNow connector reads and writes records as the Table API documents them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.base import Connector
from connector.entities import Change, IncidentRequest, KnownError, SupportGroup, Task
from connector.enums import (
    ChangeStatus,
    ChangeTiming,
    Impact,
    IncidentStatus,
    KnownErrorStatus,
    Priority,
    ReportedSource,
    RiskLevel,
    ServiceType,
    TaskStatus,
    Urgency,
)
from connector.errors import InvalidResponse, NotFound, Rejected
from connector.filters import Field
from connector.servicenow import ServiceNowConnector
from tests.conftest import recorded
from tests.connector.conftest import SN_URL

TABLE = f"{SN_URL}/api/now/table"
GROUP_ID = "287ebd7da9fe198100f92cc8d1d2154e"
CALLER_ID = "46c6f9efa9fe198101ddf5eed9adf6e7"
INCIDENT_ID = "26d1744d47603110d737cd9bd36d436b"


def query(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def body(call: responses.Call) -> Any:
    return json.loads(call.request.body)


def incident_row(**changes: str) -> dict[str, str]:
    """An incident as the Table API sends it with display_value=false and no links [1.3]."""
    row = {
        "sys_id": INCIDENT_ID,
        "number": "INC0010006",
        "correlation_id": "",
        "sys_created_on": "2023-08-07 10:59:39",
        "sys_updated_on": "2023-08-07 11:02:00",
        "short_description": "Online banking login page times out",
        "description": "",
        "state": "2",
        "close_code": "",
        "impact": "2",
        "urgency": "1",
        "priority": "2",
        "u_service_type": "user_service_restoration",
        "contact_type": "phone",
        "company.name": "",
        "caller_id.user_name": "mary",
        "business_service.name": "Online Banking",
        "business_service": "27d32778c0a8000b00db970eeaa60f16",
        "cmdb_ci.name": "",
        "cmdb_ci": "",
        "assignment_group.name": "Service Desk",
        "assigned_to.user_name": "",
        "category": "inquiry",
        "subcategory": "",
        "close_notes": "",
        "u_event_key": "",
        "opened_at": "2023-08-07 10:59:39",
        "resolved_at": "",
        "closed_at": "",
        "reopened_time": "",
    }
    row.update(changes)
    return row


def listing(
    mocked: responses.RequestsMock,
    table: str,
    rows: list[dict],
    headers: dict[str, str] | None = None,
) -> None:
    """A list answer; X-Total-Count is the row count unless other headers are given."""
    sent = {"X-Total-Count": str(len(rows))} if headers is None else headers
    mocked.get(f"{TABLE}/{table}", json={"result": rows}, headers=sent)


# -- reading ---------------------------------------------------------------------------------------
def test_the_connector_is_a_connector(sn: ServiceNowConnector) -> None:
    """It satisfies the small Connector protocol procedures and the executor use."""
    assert isinstance(sn, Connector)
    assert sn.platform == "servicenow"


def test_get_reads_raw_values_and_dot_walked_names(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Choice values, dates and dot-walked names become an SMPM incident request [1.3, 2.1]."""
    listing(mocked, "incident", [incident_row()], {"X-Total-Count": "1"})

    incident = sn.get(IncidentRequest, "INC0010006")

    assert (incident.id, incident.platform_id) == ("INC0010006", INCIDENT_ID)
    assert incident.status is IncidentStatus.IN_PROGRESS
    assert (incident.impact, incident.urgency, incident.priority) == (
        Impact.MODERATE,
        Urgency.CRITICAL,
        Priority.HIGH,
    )
    assert incident.service_type is ServiceType.USER_SERVICE_RESTORATION
    assert incident.reported_source is ReportedSource.PHONE
    assert (incident.customer, incident.assigned_group, incident.service) == (
        "mary",
        "Service Desk",
        "Online Banking",
    )
    assert incident.assignee is None  # "" is empty
    assert incident.reported_at == datetime(2023, 8, 7, 10, 59, 39, tzinfo=UTC)

    call = mocked.calls[0]
    assert call.request.headers["Authorization"].startswith("Basic ")
    params = query(call)
    assert params["sysparm_query"] == "number=INC0010006^ORDERBYsys_id"
    assert params["sysparm_display_value"] == "false"
    assert params["sysparm_exclude_reference_link"] == "true"
    assert (params["sysparm_limit"], params["sysparm_offset"]) == ("1", "0")
    fields = params["sysparm_fields"].split(",")
    assert fields[0] == "sys_id"
    assert {"number", "assignment_group.name", "caller_id.user_name", "u_service_type"} <= set(
        fields
    )


def test_recorded_change_bodies_decode_as_they_are(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """display_value=all envelopes with float choice values (-5.0, 3.0) read as SMPM values."""
    change_body = recorded("servicenow", "create_co_from_template_result.json")
    listing(mocked, "change_request", [change_body["result"]], {"X-Total-Count": "1"})

    change = sn.get(Change, "CHG0031889")

    assert (change.id, change.platform_id) == ("CHG0031889", "11ab5ccfdb784d505da401a3ca96190a")
    assert change.status is ChangeStatus.DRAFT
    assert change.timing is ChangeTiming.STANDARD
    assert change.risk_level is RiskLevel.LEVEL_3
    assert (change.impact, change.urgency, change.priority) == (
        Impact.MINOR,
        Urgency.LOW,
        Priority.LOW,
    )
    assert change.created_at == datetime(2022, 1, 6, 12, 12, 43, tzinfo=UTC)
    assert change.change_type == "Other"
    assert change.scheduled_start is None  # "" in the envelope


def test_recorded_change_tasks_page_and_decode(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Six recorded change tasks, two per page, as X-Total-Count says: three requests."""
    tasks = recorded("servicenow", "get_tasks_for_co_command.json")["result"]
    for start in (0, 2, 4):
        listing(mocked, "change_task", tasks[start : start + 2], {"X-Total-Count": "6"})

    found = list(sn.find(Task))

    assert [t.id for t in found] == [f"CTASK001000{n}" for n in range(1, 7)]
    assert {t.status for t in found} == {TaskStatus.ASSIGNED}
    assert found[0].created_at == datetime(2020, 2, 6, 22, 19, 51, tzinfo=UTC)
    assert [query(c)["sysparm_offset"] for c in mocked.calls] == ["0", "2", "4"]


def test_a_short_page_does_not_end_the_list(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The limit applies before ACLs: one row of two, but X-Total-Count says 5 [1.2]."""
    rows = [incident_row(number=f"INC{n}", sys_id=f"{n:032x}") for n in range(5)]
    listing(mocked, "incident", rows[:1], {"X-Total-Count": "5"})  # one hidden by an ACL
    listing(mocked, "incident", rows[2:4], {"X-Total-Count": "5"})
    listing(mocked, "incident", rows[4:], {"X-Total-Count": "5"})

    found = [i.id for i in sn.find(IncidentRequest)]

    assert found == ["INC0", "INC2", "INC3", "INC4"]
    assert [query(c)["sysparm_offset"] for c in mocked.calls] == ["0", "2", "4"]


def link(offset: int | None) -> str:
    base = f"{SN_URL}/api/now/table/incident?sysparm_limit=2"
    links = [f'<{base}&sysparm_offset=0>;rel="first"', f'<{base}&sysparm_offset=-2>;rel="prev"']
    if offset is not None:
        links.append(f'<{base}&sysparm_offset={offset}>;rel="next"')
    return ",".join(links)


def test_without_a_count_the_link_header_decides(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """No X-Total-Count: follow rel="next" (first, prev -2, next; no spaces) until it is gone."""
    rows = [incident_row(number=f"INC{n}", sys_id=f"{n:032x}") for n in range(3)]
    listing(mocked, "incident", rows[:2], {"Link": link(2)})
    listing(mocked, "incident", rows[2:], {"Link": link(None)})

    assert [i.id for i in sn.find(IncidentRequest)] == ["INC0", "INC1", "INC2"]
    assert len(mocked.calls) == 2


def test_a_next_link_that_goes_back_is_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A rel="next" that does not advance would page forever; it is reported instead."""
    listing(mocked, "incident", [incident_row()], {"Link": link(0)})
    with pytest.raises(InvalidResponse, match="goes back to offset 0"):
        list(sn.find(IncidentRequest))


def test_without_any_paging_header_only_an_empty_page_ends(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A short page alone never ends the list; an empty one does."""
    listing(mocked, "incident", [incident_row(number="INC1")], {})
    listing(mocked, "incident", [], {})
    assert [i.id for i in sn.find(IncidentRequest)] == ["INC1"]
    assert len(mocked.calls) == 2


def test_listing_is_lazy_and_reads_one_page_ahead(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Nothing is fetched before rows are consumed; then at most the next page early."""
    rows = [incident_row(number=f"INC{n}", sys_id=f"{n:032x}") for n in range(6)]
    for start in (0, 2, 4):
        listing(mocked, "incident", rows[start : start + 2], {"X-Total-Count": "6"})
    found = sn.find(IncidentRequest)
    assert len(mocked.calls) == 0
    assert next(iter(found)).id == "INC0"
    sn._prefetch.submit(lambda: None).result()
    assert [query(c)["sysparm_offset"] for c in mocked.calls] == ["0", "2"]


def test_a_limit_shrinks_the_last_page(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """limit=3 with pages of two asks for 2, then 1."""
    rows = [incident_row(number=f"INC{n}", sys_id=f"{n:032x}") for n in range(3)]
    listing(mocked, "incident", rows[:2], {"X-Total-Count": "9"})
    listing(mocked, "incident", rows[2:], {"X-Total-Count": "9"})
    assert len(list(sn.find(IncidentRequest, limit=3))) == 3
    assert [query(c)["sysparm_limit"] for c in mocked.calls] == ["2", "1"]


def test_filters_become_encoded_queries_on_platform_columns(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Names and values are translated; no group is the reference being empty, not its name."""
    listing(mocked, "incident", [])
    where = (Field("status") == IncidentStatus.NEW) & Field("assigned_group").is_null()
    list(sn.find(IncidentRequest, where, order_by="reported_at", descending=True))
    assert query(mocked.calls[0])["sysparm_query"] == (
        "state=1^assignment_groupISEMPTY^ORDERBYDESCopened_at^ORDERBYsys_id"
    )


def test_known_errors_are_problems_marked_known_error(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Reads of known errors carry known_error=true, also around ^NQ alternatives [2.2]."""
    listing(mocked, "problem", [])
    where = (Field("status") == KnownErrorStatus.CORRECTED) | (
        (Field("impact") == Impact.MINOR) & (Field("urgency") == Urgency.LOW)
    )
    list(sn.find(KnownError, where))
    assert query(mocked.calls[0])["sysparm_query"] == (
        "known_error=true^state=106^NQknown_error=true^impact=3^urgency=3^ORDERBYsys_id"
    )


def test_a_missing_record_is_not_found(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """An empty result (v2 answers [] with 200 [1.1]) is NotFound naming kind and table."""
    listing(mocked, "incident", [], {"X-Total-Count": "0"})
    with pytest.raises(NotFound, match="no incident 'INC404' in incident"):
        sn.get(IncidentRequest, "INC404")


def test_groups_read_their_coordinator_and_status(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """sys_user_group.manager is SMPM's group coordinator; active is the record status."""
    row = {"sys_id": GROUP_ID, "name": "Service Desk", "active": "true"}
    listing(mocked, "sys_user_group", [{**row, "manager.user_name": "mary"}])
    [group] = list(sn.find(SupportGroup))
    assert (group.id, group.name, group.coordinator, group.status) == (
        GROUP_ID,
        "Service Desk",
        "mary",
        "enabled",
    )


# -- writing ---------------------------------------------------------------------------------------
def lookup(mocked: responses.RequestsMock, table: str, rows: list[dict[str, str]]) -> None:
    listing(mocked, table, rows)


def test_create_resolves_names_and_decodes_the_answer(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Names become sys_ids (one lookup each); the 201 answer is the new record [1.1, 1.3]."""
    lookup(mocked, "sys_user_group", [{"sys_id": GROUP_ID, "name": "Service Desk"}])
    lookup(mocked, "sys_user", [{"sys_id": CALLER_ID, "user_name": "mary"}])
    created_row = incident_row(state="1", correlation_id="smpm-abc")
    mocked.post(f"{TABLE}/incident", json={"result": created_row}, status=201)
    new = IncidentRequest(
        summary="Online banking login page times out",
        status=IncidentStatus.ASSIGNED,
        impact=Impact.SIGNIFICANT,
        urgency=Urgency.HIGH,
        service_type=ServiceType.INFRASTRUCTURE_RESTORATION,
        reported_source=ReportedSource.SYSTEMS_MANAGEMENT,
        customer="mary",
        assigned_group="Service Desk",
        correlation_id="smpm-abc",
    )

    created = sn.create(new)

    group_lookup, user_lookup, post = mocked.calls
    assert query(group_lookup)["sysparm_query"] == "name=Service Desk^ORDERBYsys_id"
    assert query(group_lookup)["sysparm_limit"] == "2"
    assert query(user_lookup)["sysparm_query"] == "user_name=mary^ORDERBYsys_id"
    assert body(post) == {
        "short_description": "Online banking login page times out",
        "state": "1",  # no Assigned state: written as New (write_aliases)
        "impact": "1",
        "urgency": "1",
        "u_service_type": "infrastructure_restoration",
        "contact_type": "monitoring",
        "caller_id": CALLER_ID,
        "assignment_group": GROUP_ID,
        "correlation_id": "smpm-abc",
    }
    assert post.request.headers["Content-Type"] == "application/json"
    assert "assignment_group.name" in query(post)["sysparm_fields"].split(",")
    assert (created.id, created.platform_id, created.status) == (
        "INC0010006",
        INCIDENT_ID,
        IncidentStatus.NEW,
    )

    mocked.post(f"{TABLE}/incident", json={"result": created_row}, status=201)
    sn.create(new.model_copy(update={"customer": None}))
    assert len(mocked.calls) == 4  # the group's sys_id came from the cache


def test_create_reads_back_when_the_answer_lacks_fields(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """An answer without the dot-walked fields is completed by one GET of the new sys_id."""
    mocked.post(
        f"{TABLE}/incident",
        json={"result": {"sys_id": INCIDENT_ID, "number": "INC0010006"}},
        status=201,
        headers={"Location": f"{TABLE}/incident/{INCIDENT_ID}"},
    )
    mocked.get(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": incident_row()})

    created = sn.create(IncidentRequest(summary="x"))

    assert created.assigned_group == "Service Desk"
    assert query(mocked.calls[1])["sysparm_exclude_reference_link"] == "true"


def test_an_unknown_name_is_refused_before_writing(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """A group no record has is a clear error naming the field and the value; nothing is POSTed."""
    lookup(mocked, "sys_user_group", [])
    with pytest.raises(Rejected) as caught:
        sn.create(IncidentRequest(summary="x", assigned_group="Nobody"))
    assert "incident.assigned_group" in str(caught.value)
    assert "sys_user_group with name = 'Nobody'" in str(caught.value)
    assert all(c.request.method == "GET" for c in mocked.calls)


def test_an_ambiguous_name_is_refused(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Two groups of one name: smpm cannot tell which is meant, and says so."""
    twins = [{"sys_id": "a" * 32, "name": "Ops"}, {"sys_id": "b" * 32, "name": "Ops"}]
    lookup(mocked, "sys_user_group", twins)
    with pytest.raises(Rejected, match="several records"):
        sn.create(IncidentRequest(summary="x", assigned_group="Ops"))


def test_update_patches_only_the_changes(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The number is looked up once; the PATCH carries the changed columns, a cleared one as ""."""
    lookup(mocked, "incident", [{"sys_id": INCIDENT_ID, "number": "INC0010006"}])
    lookup(mocked, "sys_user_group", [{"sys_id": GROUP_ID, "name": "Service Desk"}])
    mocked.patch(f"{TABLE}/incident/{INCIDENT_ID}", json={"result": {"sys_id": INCIDENT_ID}})

    sn.update(
        IncidentRequest,
        "INC0010006",
        {"status": IncidentStatus.ASSIGNED, "assigned_group": "Service Desk", "assignee": None},
    )

    patch = mocked.calls[-1]
    assert patch.request.method == "PATCH"
    assert body(patch) == {"state": "1", "assigned_to": "", "assignment_group": GROUP_ID}
    assert query(patch) == {"sysparm_fields": "sys_id"}


def test_update_of_an_entity_uses_its_sys_id(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """An entity read from ServiceNow carries its sys_id: no lookup is needed."""
    mocked.patch(f"{TABLE}/change_request/{'c' * 32}", json={"result": {}})
    sn.update(Change, Change(id="CHG1", platform_id="c" * 32), {"status": ChangeStatus.CLOSED})
    assert len(mocked.calls) == 1
    assert body(mocked.calls[0]) == {"state": "3"}


def test_update_of_an_unknown_number_is_not_found(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """No incident has that number: NotFound, no PATCH."""
    lookup(mocked, "incident", [])
    with pytest.raises(NotFound, match="incident INC404"):
        sn.update(IncidentRequest, "INC404", {"summary": "x"})


def test_a_known_error_made_from_a_problem_marks_that_problem(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """No second record: PRB0040001 gets known_error=true and the workaround [2.2]."""
    problem_id = "d" * 32
    lookup(mocked, "problem", [{"sys_id": problem_id, "number": "PRB0040001"}])
    mocked.patch(f"{TABLE}/problem/{problem_id}", json={"result": {"sys_id": problem_id}})
    marked = {"sys_id": problem_id, "number": "PRB0040001", "state": "103", "workaround": "w"}
    marked["known_error"] = "true"
    listing(mocked, "problem", [marked])

    known = sn.create(KnownError(problem_id="PRB0040001", workaround="w", correlation_id="smpm-ke"))

    patch = mocked.calls[1]
    assert body(patch) == {"workaround": "w", "known_error": "true"}
    assert query(mocked.calls[2])["sysparm_query"] == (
        "known_error=true^number=PRB0040001^ORDERBYsys_id"
    )
    assert (known.id, known.problem_id, known.status) == (
        "PRB0040001",
        "PRB0040001",
        KnownErrorStatus.ASSIGNED,
    )


def test_a_new_known_error_is_a_new_problem_marked_known_error(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Without a problem to mark, the known error is POSTed to problem with known_error=true."""
    row = {"sys_id": "e" * 32, "number": "PRB0040002", "state": "104", "known_error": "true"}
    mocked.post(f"{TABLE}/problem", json={"result": row}, status=201)
    mocked.get(f"{TABLE}/problem/{'e' * 32}", json={"result": row})
    known = sn.create(KnownError(summary="Disk fills", status=KnownErrorStatus.ASSIGNED))
    assert body(mocked.calls[0]) == {
        "known_error": "true",
        "short_description": "Disk fills",
        "state": "103",
    }
    assert known.status is KnownErrorStatus.SCHEDULED_FOR_CORRECTION
