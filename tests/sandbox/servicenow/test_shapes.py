"""Record shapes of the Table API [reference 1.1, 1.3], checked against the documented examples
and the recorded Change Management bodies (display_value=all shape)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sandbox.servicenow.support import SN, SYS_ID, TIMEOUT, recorded

DATE = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
# fields of real incident responses [2.1]
INCIDENT_FIELDS = [
    "number",
    "short_description",
    "description",
    "caller_id",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "cmdb_ci",
    "business_service",
    "service_offering",
    "problem_id",
    "rfc",
    "caused_by",
    "parent_incident",
    "child_incidents",
    "close_code",
    "close_notes",
    "reopen_count",
    "reopened_by",
    "reopened_time",
    "opened_at",
    "opened_by",
    "resolved_at",
    "resolved_by",
    "closed_at",
    "closed_by",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
    "sys_mod_count",
    "work_notes",
    "comments",
    "comments_and_work_notes",
    "work_notes_list",
    "hold_reason",
    "severity",
    "made_sla",
    "sla_due",
    "contact_type",
    "company",
    "location",
    "correlation_id",
    "correlation_display",
    "task_effective_number",
    "sys_class_name",
    "sys_domain",
    "active",
    "approval",
    "escalation",
    "notify",
    "reassignment_count",
    "origin_table",
    "origin_id",
    "universal_request",
    "business_impact",
    "cause",
    "state",
    "incident_state",
    "impact",
    "urgency",
    "priority",
    "sys_id",
    "u_service_type",
    "u_event_key",
]
NOT_TABLE_API = {"__meta", "variables"}  # Change Management API extras, not table columns


def is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"link", "value"}


def test_list_shape(sn: SN) -> None:
    """`{"result": [...]}`; every value a string or a `{link, value}` reference; sys_ids of
    32 hex digits, numbers INC + 7 digits, UTC dates [1.3]."""
    rows = sn.rows("incident", sysparm_limit=5)
    assert len(rows) == 5
    for row in rows:
        assert set(INCIDENT_FIELDS) <= set(row)
        assert all(isinstance(v, str) or is_reference(v) for v in row.values()), row
        assert re.match(SYS_ID, row["sys_id"]) and re.match(r"^INC\d{7}$", row["number"])
        assert re.match(DATE, row["sys_created_on"]) and re.match(DATE, row["opened_at"])
        assert row["incident_state"] == row["state"] and row["work_notes"] == ""


def test_empty_insert_gets_the_documented_defaults(sn: SN) -> None:
    """POST {} -> 201 + Location; impact 3, urgency 3, priority 5, severity 3, category inquiry,
    state 1; opened_by the caller, as a link to sys_user [1.3]."""
    answer = sn.create("incident", {})
    assert answer.status_code == 201
    made = answer.json()["result"]
    assert answer.headers["Location"] == sn.url("incident", made["sys_id"])
    expected = {"impact": "3", "urgency": "3", "priority": "5", "severity": "3", "state": "1"}
    assert {k: made[k] for k in expected} == expected
    assert (made["category"], made["active"], made["sys_mod_count"]) == ("inquiry", "true", "0")
    assert made["sys_created_by"] == "Allen" and made["number"] == made["task_effective_number"]
    allen = sn.sys_id("sys_user", "user_name=Allen")
    assert made["opened_by"] == {"link": sn.url("sys_user", allen), "value": allen}
    assert made["sys_domain"] == {"link": sn.url("sys_user_group", "global"), "value": "global"}


REFERENCE_SHAPES = [
    ("false", "false", {"link", "value"}),
    ("true", "false", {"display_value", "link"}),
    ("all", "false", {"display_value", "value", "link"}),
    ("false", "true", str),
    ("true", "true", str),
    ("all", "true", {"display_value", "value"}),
]


@pytest.mark.parametrize(("mode", "exclude", "shape"), REFERENCE_SHAPES)
def test_reference_shapes(sn: SN, mode: str, exclude: str, shape: Any) -> None:
    """A reference in each display_value mode, with and without links [1.3]."""
    row = sn.one(
        "incident",
        "short_description=Outlook cannot connect to mailbox",
        sysparm_display_value=mode,
        sysparm_exclude_reference_link=exclude,
        sysparm_fields="caller_id,assignment_group,problem_id",
    )
    caller = row["caller_id"]
    victor = sn.sys_id("sys_user", "user_name=Victor")
    if shape is str:
        assert caller == (victor if mode == "false" else "Victor Vance")
    else:
        assert set(caller) == shape
        assert caller.get("value", victor) == victor
        assert caller.get("display_value", "Victor Vance") == "Victor Vance"
        assert caller.get("link", sn.url("sys_user", victor)) == sn.url("sys_user", victor)
    empty = {"display_value": "", "value": ""} if mode == "all" else ""
    assert row["problem_id"] == empty


def test_links_follow_the_api_version(sandbox: Any) -> None:
    """A /api/now/v2 request gets v2 links and Location [1.3, OBS]."""
    v2 = SN(sandbox.base_url, version="v2")
    made = v2.create("incident", {"short_description": "v2 links"})
    assert made.headers["Location"].startswith(f"{sandbox.base_url}/api/now/v2/table/incident/")
    assert made.json()["result"]["opened_by"]["link"].startswith(
        f"{sandbox.base_url}/api/now/v2/table/sys_user/"
    )


@pytest.mark.parametrize(
    ("fixture", "table"),
    [
        ("create_co_from_template_result", "change_request"),
        ("get_tasks_for_co_command", "change_task"),
    ],
)
def test_display_value_all_matches_the_recorded_shape(sn: SN, fixture: str, table: str) -> None:
    """Every recorded field exists, as `{display_value, value}` (references add `link`), with
    string values; the recorded choice labels come out for the recorded values."""
    body = recorded(fixture)["result"]
    sample = body if isinstance(body, dict) else body[0]
    values = {
        "change_request": {"type": "standard", "risk": "3", "impact": "3", "urgency": "3"},
        "change_task": {"impact": "3", "urgency": "3", "priority": "1", "state": "1"},
    }[table]
    if table == "change_task":
        values["change_request"] = sn.sys_id(
            "change_request", "short_description=Firmware upgrade on core-sw-02"
        )
    made = sn.new(table, **values)
    ours = sn.record(table, made["sys_id"], sysparm_display_value="all")
    for key, recorded_value in sample.items():
        if key in NOT_TABLE_API or key.startswith("u_"):
            continue
        assert key in ours, key
        assert {"display_value", "value"} <= set(ours[key]) <= {"display_value", "value", "link"}
        assert all(isinstance(v, str) for v in ours[key].values()), (key, ours[key])
        if "link" in ours[key]:
            assert ours[key]["value"] and set(recorded_value) == {"display_value", "value"}
    same = (
        "type",
        "state",
        "impact",
        "urgency",
        "priority",
        "approval",
        "upon_reject",
        "escalation",
    )
    same += ("upon_approval", "phase", "risk", "conflict_status", "sys_class_name", "active")
    for key in same:
        if (
            key in sample
            and str(sample[key]["value"]).removesuffix(".0").lower() == ours[key]["value"]
        ):
            assert ours[key]["display_value"] == sample[key]["display_value"], key


def test_dot_walked_fields_are_flat_keys(sn: SN) -> None:
    """`sysparm_fields=caller_id.user_name,assignment_group.name` [1.3, c_RESTAPI]; unknown
    fields are ignored [1.2]."""
    row = sn.one(
        "incident",
        "short_description=Outlook cannot connect to mailbox",
        sysparm_fields="number,caller_id.user_name,assignment_group.name,"
        "assignment_group.manager.email,bogus,caller_id.bogus",
    )
    assert row == {
        "number": row["number"],
        "caller_id.user_name": "Victor",
        "assignment_group.name": "Service Desk",
        "assignment_group.manager.email": "M.Mann@calbroservices.com",
    }


def test_patch_put_and_delete(sn: SN) -> None:
    """PATCH and PUT answer 200 `{"result"}` with sys_mod_count and sys_updated_* kept; unknown
    and system fields are ignored [1.1]; `""` clears; DELETE answers 204 without a body."""
    made = sn.new("incident", short_description="to change", description="details")
    patched = sn.patch(
        "incident",
        made["sys_id"],
        {"description": "", "bogus": "x", "sys_created_by": "mallory", "urgency": 1, "impact": 1},
    )
    assert patched.status_code == 200
    result = patched.json()["result"]
    assert (result["description"], result["sys_created_by"]) == ("", "Allen")
    assert (result["priority"], result["sys_mod_count"]) == ("1", "1")
    put = sn.put("incident", made["sys_id"], {"short_description": "put"})
    assert put.status_code == 200 and put.json()["result"]["sys_mod_count"] == "2"
    unchanged = sn.patch("incident", made["sys_id"], {"short_description": "put"})
    assert unchanged.json()["result"]["sys_mod_count"] == "2"
    deleted = sn.delete("incident", made["sys_id"])
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert sn.get("incident", made["sys_id"]).status_code == 404


def test_no_response_body_header(sn: SN) -> None:
    """`X-no-response-body: true` drops the body of a POST or PATCH answer [1.1]."""
    answer = sn.http.post(
        sn.url("incident"),
        json={"short_description": "quiet"},
        headers={"X-no-response-body": "true"},
        timeout=TIMEOUT,
    )
    assert (answer.status_code, answer.content) == (201, b"")
    assert answer.headers["Location"]


def test_input_display_value(sn: SN) -> None:
    """With `sysparm_input_display_value=true`, references and choices may be given by their
    display values [1.2]."""
    answer = sn.create(
        "incident",
        {"caller_id": "Rita Ross", "assignment_group": "Service Desk", "impact": "1 - High"},
        sysparm_input_display_value="true",
        sysparm_display_value="true",
        sysparm_fields="caller_id,assignment_group,impact",
        sysparm_exclude_reference_link="true",
    )
    assert answer.json()["result"] == {
        "caller_id": "Rita Ross",
        "assignment_group": "Service Desk",
        "impact": "1 - High",
    }


def test_journal_fields(sn: SN) -> None:
    """work_notes and comments written by POST and PATCH become sys_journal_field entries; raw
    they read "", as display values every entry, newest first [2.9]."""
    made = sn.new("incident", short_description="journal", work_notes="first note")
    sn.patch("incident", made["sys_id"], {"comments": "to the caller"})
    sn.patch("incident", made["sys_id"], {"work_notes": "second note"})
    raw = sn.record("incident", made["sys_id"], sysparm_fields="work_notes,comments")
    assert raw == {"work_notes": "", "comments": ""}
    shown = sn.record(
        "incident",
        made["sys_id"],
        sysparm_display_value="true",
        sysparm_fields="work_notes,comments,comments_and_work_notes",
    )
    header = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - Allen Allbrook"
    assert re.fullmatch(
        f"{header} \\(Work notes\\)\nsecond note\n\n{header} \\(Work notes\\)\nfirst note\n\n",
        shown["work_notes"],
    )
    assert re.fullmatch(f"{header} \\(Additional comments\\)\nto the caller\n\n", shown["comments"])
    assert shown["comments_and_work_notes"].count("(") == 3
    entries = sn.rows(
        "sys_journal_field",
        sysparm_query=f"element_id={made['sys_id']}^ORDERBYsys_created_on",
        sysparm_fields="element,name,value,sys_created_by",
    )
    assert [e["element"] for e in entries] == ["work_notes", "comments", "work_notes"]
    assert entries[0] == {
        "element": "work_notes",
        "name": "incident",
        "value": "first note",
        "sys_created_by": "Allen",
    }
    both = sn.record(
        "incident", made["sys_id"], sysparm_display_value="all", sysparm_fields="comments"
    )
    assert both["comments"]["value"] == "" and "to the caller" in both["comments"]["display_value"]


def test_head_is_get_without_a_body(sn: SN) -> None:
    """HEAD answers GET's status and headers, no body [1.1]."""
    answer = sn.http.head(sn.url("incident"), params={"sysparm_limit": 1}, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.headers["X-Total-Count"] and not answer.content


def test_requests_echo_cmdb_class_names(sn: SN) -> None:
    """A query on cmdb_ci returns every class; a class table only its own and its children."""
    classes = {r["sys_class_name"] for r in sn.rows("cmdb_ci", sysparm_fields="sys_class_name")}
    assert {"cmdb_ci_service", "cmdb_ci_linux_server", "cmdb_ci_db_instance"} <= classes
    assert {"cmdb_ci_cluster", "cmdb_ci_storage_device", "cmdb_ci_ip_switch"} <= classes
    servers = sn.rows("cmdb_ci_server", sysparm_fields="sys_class_name")
    assert servers and {r["sys_class_name"] for r in servers} == {"cmdb_ci_linux_server"}
    appl = {r["sys_class_name"] for r in sn.rows("cmdb_ci_appl", sysparm_fields="sys_class_name")}
    assert appl == {
        "cmdb_ci_appl",
        "cmdb_ci_db_instance",
        "cmdb_ci_web_server",
        "cmdb_ci_email_server",
    }
    service = sn.one(
        "cmdb_ci_service",
        "name=Online Banking",
        sysparm_fields="name,u_change_coordinator.user_name,owned_by.user_name,support_group.name",
    )
    assert service == {
        "name": "Online Banking",
        "u_change_coordinator.user_name": "Francie",
        "owned_by.user_name": "Sam",
        "support_group.name": "Application Support",
    }


def test_events_and_method_override(sn: SN) -> None:
    """An em_event is stored with its defaults (state Ready, resolution New, time_of_event now)
    [2.7]; `X-http-method-override` turns a POST into a PATCH [1.1]."""
    event = sn.new("em_event", source="Nagios", node="db-node-01", severity="2", message_key="k1")
    assert (event["state"], event["resolution_state"], event["severity"]) == ("Ready", "New", "2")
    assert re.match(DATE, event["time_of_event"])
    answer = sn.http.post(
        sn.url("em_event", event["sys_id"]),
        json={"resolution_state": "Closing"},
        headers={"X-http-method-override": "PATCH"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200 and answer.json()["result"]["resolution_state"] == "Closing"
