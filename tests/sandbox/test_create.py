"""Creating entries on the ITSM interface forms, answered like the recorded create bodies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox import Sandbox
from tests.sandbox.support import AR, recorded

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")
INCIDENT = {  # the canonical create body of remedy-py and rapid7 [4.2]
    "First_Name": "Allen",
    "Last_Name": "Allbrook",
    "Description": "REST API: Incident Creation",
    "Impact": "1-Extensive/Widespread",
    "Urgency": "1-Critical",
    "Status": "Assigned",
    "Reported Source": "Direct Input",
    "Service_Type": "User Service Restoration",
    "z1D_Action": "CREATE",
}
PROBLEM = {
    "z1D_Action": "PROBLEM",
    "Description": "REST API Test problem creation",
    "Impact": "2-Significant/Large",
    "Urgency": "2-High",
    "Status": "Assigned",
    "First Name": "Allen",
    "Last Name": "Allbrook",
    "Company": "Calbro Services",
    "Assigned Group": "Problem Management",
}
KNOWN_ERROR = {
    "z1D_Action": "KNOWNERROR",
    "Description": "New Error API",
    "Detailed Decription": "New Error API Details",
    "Impact": "2-Significant/Large",
    "Urgency": "2-High",
    "Known Error Status": "Assigned",
    "Resolution": "error resolution",
    "Assigned Group": "Problem Management",
}
CHANGE = {
    "z1D_Action": "CREATE",
    "Description": "Patch web servers",
    "Status": "Draft",
    "Impact": "3-Moderate/Limited",
    "Urgency": "3-Medium",
    "Change Type": "Change",
    "Timing": "Normal",
    "Risk Level": "Risk Level 2",
    "Company": "Calbro Services",
}


def same_shape(ours: dict[str, Any], fixture: dict[str, Any], base_url: str) -> None:
    """Same keys (the recorded nulls aside), same link structure, dates formatted alike."""
    assert ours.keys() == fixture.keys() == {"values", "_links"}
    assert set(ours["values"]) == {k for k, v in fixture["values"].items() if v is not None}
    assert DATE.match(ours["values"]["Create Date"])
    form = fixture["_links"]["self"][0]["href"].split("/api/arsys/", 1)[1]
    assert ours["_links"] == {"self": [{"href": f"{base_url}/api/arsys/{form}"}]}


@pytest.mark.parametrize(
    ("form", "values", "fields", "fixture"),
    [
        (
            "HPD:IncidentInterface_Create",
            INCIDENT,
            "values(Incident_Entry_ID,Incident Number,Create Date)",
            "incident_create",
        ),
        (
            "PBM:ProblemInterface_Create",
            PROBLEM,
            "values(Sys-Problem Investigation ID,Problem Investigation ID,Create Date)",
            "create_prob",
        ),
        (
            "PBM:ProblemInterface_Create",
            KNOWN_ERROR,
            "values(Request ID,Known Error ID,Create Date)",
            "create_known_error",
        ),
        (
            "CHG:ChangeInterface_Create",
            CHANGE,
            "values(Change_Entry_ID,Infrastructure Change Id,Create Date)",
            "create_change_request",
        ),
        (
            "TMS:Task",
            {
                "Summary": "Check the backups",
                "RootRequestID": "INC000000000004",
                "RootRequestFormName": "HPD:Help Desk",
            },
            "values(Task ID,Create Date)",
            "create_task",
        ),
    ],
    ids=["incident", "problem", "known-error", "change", "task"],
)
def test_create_answers_like_the_recorded_body(
    ar: AR, sandbox: Sandbox, form: str, values: dict[str, Any], fields: str, fixture: str
) -> None:
    """201, a Location to the new entry, and the requested non-null values with a form link."""
    answer = ar.create(form, values, fields)
    assert answer.status_code == 201, answer.text
    same_shape(answer.json(), recorded(fixture), sandbox.base_url)
    location = answer.headers["Location"]
    assert location.startswith(ar.url(form) + "/")
    assert ar.http.get(location, timeout=10).status_code == 200


def test_ticket_numbers_have_their_prefixes(ar: AR) -> None:
    """INC, PBI, PKE, CRQ, TAS (and RLM, SGP) ids with twelve digits [4.1]."""
    numbers = [
        ar.create("HPD:IncidentInterface_Create", INCIDENT, "values(Incident Number)"),
        ar.create("PBM:ProblemInterface_Create", PROBLEM, "values(Problem Investigation ID)"),
        ar.create("PBM:ProblemInterface_Create", KNOWN_ERROR, "values(Known Error ID)"),
        ar.create("CHG:ChangeInterface_Create", CHANGE, "values(Infrastructure Change Id)"),
        ar.create("TMS:Task", {"Summary": "x"}, "values(Task ID)"),
        ar.create("RMS:Release", {"Description": "Q3 release"}, "values(Release ID)"),
        ar.create("CTM:Support Group", {"Support Group Name": "New"}, "values(Support Group ID)"),
    ]
    found = [next(iter(n.json()["values"].values())) for n in numbers]
    prefixes = ("INC", "PBI", "PKE", "CRQ", "TAS", "RLM", "SGP")
    for number, prefix in zip(found, prefixes, strict=True):
        assert re.fullmatch(prefix + r"\d{12}", number), number


def test_create_without_fields_is_201_with_empty_body(ar: AR) -> None:
    """No `fields`: 201, no body, and a Location naming the create form's entry [2.5]."""
    answer = ar.create("HPD:IncidentInterface_Create", INCIDENT)
    assert answer.status_code == 201
    assert answer.content == b""
    entry = ar.http.get(
        answer.headers["Location"], params={"fields": "values(Incident Number)"}, timeout=10
    ).json()
    assert re.fullmatch(r"INC\d{12}", entry["values"]["Incident Number"])
    assert re.search(r"/HPD:IncidentInterface_Create/\d{15}$", answer.headers["Location"])


def test_entry_id_differs_from_incident_number(ar: AR) -> None:
    """As on real servers, the Entry ID is not the Incident Number; PUT needs the Request ID."""
    number = ar.new_incident()
    incident = ar.incident(number)
    assert incident["Entry ID"] != number
    assert ar.update("HPD:IncidentInterface", number, {"Urgency": "4-Low"}).status_code == 404
    assert (
        ar.update("HPD:IncidentInterface", incident["Request ID"], {"Urgency": "4-Low"}).status_code
        == 204
    )


def test_create_form_without_z1d_action_still_files(ar: AR) -> None:
    """demisto omits z1D_Action; the create form accepts that [4.2]."""
    values = {k: v for k, v in INCIDENT.items() if k != "z1D_Action"}
    assert ar.create("HPD:IncidentInterface_Create", values).status_code == 201


def test_created_incident_is_filled_in_by_workflow(ar: AR) -> None:
    """Customer details come from CTM:People, the group's id from CTM:Support Group."""
    number = ar.new_incident(
        Login_ID="Victor",
        First_Name=None,
        Last_Name=None,
        **{"Assigned Group": "Service Desk", "Status": "Assigned"},
    )
    incident = ar.incident(number)
    assert (incident["First Name"], incident["Last Name"], incident["VIP"]) == (
        "Victor",
        "Vance",
        "Yes",
    )
    assert incident["Customer Login ID"] == "Victor"
    assert incident["Assigned Support Organization"] == "IT Support"
    assert re.fullmatch(r"SGP\d{12}", incident["Assigned Group ID"])
    assert incident["Reported Date"] == incident["Submit Date"]
    assert list(incident["Status-History"]) == ["Assigned"]


@pytest.mark.parametrize(
    "drop",
    [
        "Description",
        "Impact",
        "Urgency",
        "Status",
        "Reported Source",
        "Service_Type",
        "First_Name",
    ],
)
def test_missing_required_field_is_named(ar: AR, drop: str) -> None:
    """A create without a required field is refused with AR error 326 naming it."""
    values = {k: v for k, v in INCIDENT.items() if k != drop}
    answer = ar.create("HPD:IncidentInterface_Create", values)
    assert answer.status_code == 400
    (message,) = answer.json()
    assert message["messageNumber"] == 326
    assert message["messageText"] == "Required field cannot be blank"
    assert message["messageAppendedText"].startswith(drop)


def test_infrastructure_event_needs_no_customer(ar: AR) -> None:
    """Service type Infrastructure Event is filed without a customer [4.2]."""
    values = {k: v for k, v in INCIDENT.items() if k not in ("First_Name", "Last_Name")}
    values["Service_Type"] = "Infrastructure Event"
    assert ar.create("HPD:IncidentInterface_Create", values).status_code == 201


def test_unknown_customer_is_refused(ar: AR) -> None:
    """A customer who is not in CTM:People is refused, naming the create form's field."""
    answer = ar.create("HPD:IncidentInterface_Create", {**INCIDENT, "Login_ID": "nobody"})
    assert answer.status_code == 400
    assert answer.json()[0]["messageAppendedText"].startswith("Login_ID: ")


def test_bad_selection_value_lists_the_allowed_ones(ar: AR) -> None:
    """An enum value outside the selection is 306 naming the field and the labels."""
    answer = ar.create("HPD:IncidentInterface_Create", {**INCIDENT, "Urgency": "Urgent"})
    assert answer.status_code == 400
    message = answer.json()[0]
    assert message["messageNumber"] == 306
    assert message["messageAppendedText"].startswith("Urgency: 'Urgent' is not one of: 1-Critical")


def test_problem_create_needs_an_action(ar: AR) -> None:
    """PBM:ProblemInterface_Create needs z1D_Action PROBLEM or KNOWNERROR."""
    values = {k: v for k, v in PROBLEM.items() if k != "z1D_Action"}
    assert ar.create("PBM:ProblemInterface_Create", values).json()[0]["messageNumber"] == 326
    other = ar.create("PBM:ProblemInterface_Create", {**PROBLEM, "z1D_Action": "CREATE"})
    assert other.json()[0]["messageAppendedText"].startswith("z1D_Action")


def test_known_error_ids_are_separate_counters(ar: AR) -> None:
    """A known error's Known Error ID is not its entry id (Sys-Known Error ID)."""
    number = ar.create("PBM:ProblemInterface_Create", KNOWN_ERROR, "values(Known Error ID)").json()[
        "values"
    ]["Known Error ID"]
    (found,) = ar.entries("PBM:KnownErrorInterface", q=f"'Known Error ID' = \"{number}\"")
    assert found["Sys-Known Error ID"] != number
    assert found["Request ID"] == f"{found['Sys-Known Error ID']}|{found['Sys-Known Error ID']}"


def test_create_on_a_join_form_is_204(ar: AR) -> None:
    """A join form generates no entry id: 204 without a Location [2.5]."""
    values = {
        "Description": "Filed on the join",
        "Impact": "4-Minor/Localized",
        "Urgency": "4-Low",
        "Status": "New",
        "Reported Source": "Email",
        "Service Type": "Infrastructure Event",
    }
    answer = ar.create("HPD:IncidentInterface", values, "values(Incident Number)")
    assert answer.status_code == 204
    assert "Location" not in answer.headers
    assert ar.entries("HPD:IncidentInterface", q="'Description' = \"Filed on the join\"")


def test_empty_fields_returns_the_whole_new_entry(ar: AR) -> None:
    """`?fields=` with nothing in it answers every field of the new create-form entry."""
    answer = ar.create("HPD:IncidentInterface_Create", INCIDENT, "")
    values = answer.json()["values"]
    assert values["Incident Number"].startswith("INC")
    assert "Incident_Entry_ID" in values and values["Incident_Entry_ID"] is None
