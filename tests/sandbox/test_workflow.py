"""ITSM workflow behind the forms: updates, status rules, priority, relations, work logs, SLAs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from tests.sandbox.support import AR, FakeClock

IMPACTS = [
    "1-Extensive/Widespread",
    "2-Significant/Large",
    "3-Moderate/Limited",
    "4-Minor/Localized",
]
URGENCIES = ["1-Critical", "2-High", "3-Medium", "4-Low"]
# ITSM's shipped default priority matrix (rows: impact; columns: urgency) and weights.
PRIORITIES = [
    [("Critical", 29), ("Critical", 24), ("High", 19), ("Low", 9)],
    [("Critical", 25), ("High", 20), ("Medium", 15), ("Low", 5)],
    [("High", 23), ("High", 18), ("Medium", 13), ("Low", 3)],
    [("High", 20), ("Medium", 15), ("Medium", 10), ("Low", 0)],
]


@pytest.fixture
def timed(clock: FakeClock) -> Iterator[AR]:
    """A demo sandbox on a hand-moved clock, whose tokens outlive the test's time travel."""
    with Sandbox.start(seed="demo", clock=clock, token_lifetime=30 * 86400) as running:
        yield AR(running.base_url)


def request_id(ar: AR, number: str) -> str:
    return str(ar.incident(number)["Request ID"])


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (impact, urgency, PRIORITIES[i][j])
        for i, impact in enumerate(IMPACTS)
        for j, urgency in enumerate(URGENCIES)
    ],
)
def test_priority_from_impact_and_urgency(
    ar: AR, impact: str, urgency: str, expected: tuple[str, int]
) -> None:
    """Priority and Priority Weight follow the weights, matching every recorded pair [4.3]."""
    incident = ar.incident(ar.new_incident(Impact=impact, Urgency=urgency))
    assert (incident["Priority"], incident["Priority Weight"]) == expected


def test_put_changes_only_the_given_fields(ar: AR) -> None:
    """PUT answers 204 with no body; listed fields change, others stay, priority follows."""
    number = ar.new_incident(Description="before")
    before = ar.incident(number)
    answer = ar.update(
        "HPD:IncidentInterface",
        before["Request ID"],
        {"Description": "after", "Urgency": "1-Critical"},
    )
    assert (answer.status_code, answer.content) == (204, b"")
    after = ar.incident(number)
    assert (after["Description"], after["Priority"]) == ("after", "High")
    assert after["Impact"] == before["Impact"]
    assert after["Last Modified By"] == "Allen"


@pytest.mark.parametrize("status", ["Pending", "Resolved"])
def test_status_reason_is_required_for_pending_and_resolved(ar: AR, status: str) -> None:
    """Moving to Pending or Resolved without a Status_Reason is 326 naming it."""
    key = request_id(ar, ar.new_incident())
    answer = ar.update("HPD:IncidentInterface", key, {"Status": status, "Resolution": "Fixed"})
    assert answer.status_code == 400
    assert answer.json()[0]["messageAppendedText"].startswith("Status_Reason")


def test_resolved_needs_a_resolution(ar: AR) -> None:
    """Resolved without Resolution is refused; with both it stamps Last Resolved Date."""
    number = ar.new_incident()
    key = request_id(ar, number)
    refused = ar.update(
        "HPD:IncidentInterface",
        key,
        {"Status": "Resolved", "Status_Reason": "No Further Action Required"},
    )
    assert refused.json()[0]["messageAppendedText"].startswith("Resolution")
    done = ar.update(
        "HPD:IncidentInterface",
        key,
        {
            "Status": "Resolved",
            "Status_Reason": "No Further Action Required",
            "Resolution": "Restarted the service",
        },
    )
    assert done.status_code == 204
    incident = ar.incident(number)
    assert incident["Last Resolved Date"] and incident["Responded Date"]
    assert list(incident["Status-History"]) == ["New", "Resolved"]


def test_reopening_a_resolved_incident(ar: AR) -> None:
    """Back from Resolved to In Progress stamps Re-Opened Date and drops the old reason."""
    number = ar.new_incident()
    key = request_id(ar, number)
    ar.update(
        "HPD:IncidentInterface",
        key,
        {"Status": "Resolved", "Resolution": "x", "Status_Reason": "Monitoring Incident"},
    )
    assert ar.update("HPD:IncidentInterface", key, {"Status": "In Progress"}).status_code == 204
    incident = ar.incident(number)
    assert incident["Re-Opened Date"] is not None
    assert incident["Status_Reason"] is None


def test_closed_incidents_stay_closed(ar: AR) -> None:
    """A Closed incident cannot change status."""
    key = request_id(ar, ar.new_incident())
    ar.update("HPD:IncidentInterface", key, {"Status": "Closed", "Resolution": "done"})
    answer = ar.update("HPD:IncidentInterface", key, {"Status": "In Progress"})
    assert answer.status_code == 400
    assert "Closed" in answer.json()[0]["messageAppendedText"]


def test_reassignment_counts_a_transfer_and_clears_the_assignee(ar: AR) -> None:
    """A new Assigned Group fills its id, counts a transfer and clears the assignee."""
    number = ar.new_incident(
        **{"Assigned Group": "Service Desk", "Assignee Login ID": "Allen", "Status": "Assigned"}
    )
    key = request_id(ar, number)
    assert ar.incident(number)["Assignee"] == "Allen Allbrook"
    ar.update("HPD:IncidentInterface", key, {"Assigned Group": "Network Operations"})
    incident = ar.incident(number)
    assert incident["Total Transfers"] == 1
    assert incident["Assignee"] is None and incident["Assignee Login ID"] is None
    assert incident["Assigned Support Organization"] == "IT Operations"


def test_unknown_group_is_refused(ar: AR) -> None:
    """An Assigned Group that CTM:Support Group does not know is 306 naming the field."""
    key = request_id(ar, ar.new_incident())
    answer = ar.update("HPD:IncidentInterface", key, {"Assigned Group": "Nobody"})
    assert answer.json()[0]["messageAppendedText"].startswith("Assigned Group: ")


def test_interface_field_spellings_are_strict(ar: AR) -> None:
    """The join takes its own names: `Service_Type` (the create form's spelling) is 314."""
    key = request_id(ar, ar.new_incident())
    answer = ar.update("HPD:IncidentInterface", key, {"Service_Type": "User Service Request"})
    assert (answer.status_code, answer.json()[0]["messageNumber"]) == (400, 314)


def test_association_writes_the_reciprocal_row(ar: AR) -> None:
    """Relating an incident to a problem also writes the problem's side of it [4.7]."""
    number = ar.new_incident()
    problem = ar.create(
        "PBM:ProblemInterface_Create",
        {
            "z1D_Action": "PROBLEM",
            "Description": "Root cause",
            "Impact": "3-Moderate/Limited",
            "Urgency": "3-Medium",
            "Status": "Draft",
        },
        "values(Problem Investigation ID)",
    ).json()["values"]["Problem Investigation ID"]
    answer = ar.create(
        "HPD:Associations",
        {
            "Request ID02": number,
            "Request ID01": problem,
            "Form Name01": "PBM:Problem Investigation",
            "Request Type01": "Problem Investigation",
            "Association Type01": "Caused By",
        },
    )
    assert answer.status_code == 201
    mine = ar.entries("HPD:Associations", q=f"'Request ID02' = \"{number}\"")
    theirs = ar.entries("PBM:Investigation Associations", q=f"'Request ID02' = \"{problem}\"")
    assert [(r["Request ID01"], r["Association Type01"]) for r in mine] == [(problem, "Caused By")]
    assert [
        (r["Request ID01"], r["Association Type01"], r["Form Name01"], r["Request Type01"])
        for r in theirs
    ] == [(number, "Caused", "HPD:Help Desk", "Incident")]
    row_id = ar.list("HPD:Associations", q=f"'Request ID02' = \"{number}\"").json()["entries"][0][
        "values"
    ]["Request ID"]
    assert ar.delete("HPD:Associations", row_id).status_code == 204
    assert ar.entries("PBM:Investigation Associations", q=f"'Request ID02' = \"{problem}\"") == []


def test_association_types_are_a_selection(ar: AR) -> None:
    """An association type outside the selection labels is refused with 306."""
    number = ar.new_incident()
    answer = ar.create(
        "HPD:Associations",
        {
            "Request ID02": number,
            "Request ID01": "x",
            "Form Name01": "BMC.CORE:BMC_BaseElement",
            "Association Type01": "Blames",
        },
    )
    assert answer.json()[0]["messageNumber"] == 306


def test_association_needs_existing_tickets(ar: AR) -> None:
    """A row whose owner or related ticket does not exist is refused, naming the field."""
    number = ar.new_incident()
    for values, field in (
        ({"Request ID02": "INC999999999999", "Request ID01": number}, "Request ID02"),
        ({"Request ID02": number, "Request ID01": "INC999999999999"}, "Request ID01"),
    ):
        answer = ar.create(
            "HPD:Associations",
            {**values, "Form Name01": "HPD:Help Desk", "Association Type01": "Related to"},
        )
        assert answer.json()[0]["messageAppendedText"].startswith(field)


def test_work_log_on_an_incident(ar: AR) -> None:
    """A work log gets a WLG id, the submitter and defaults; it needs an existing incident."""
    number = ar.new_incident()
    answer = ar.create(
        "HPD:WorkLog",
        {
            "Incident Number": number,
            "Description": "Called user",
            "Detailed Description": "Asked for a screenshot",
            "Work Log Type": "Customer Communication",
            "View Access": "Public",
            "Secure Work Log": "No",
        },
        "values(Work Log ID)",
    )
    assert answer.json()["values"]["Work Log ID"].startswith("WLG")
    (note,) = ar.entries("HPD:WorkLog", q=f"'Incident Number' = \"{number}\"")
    assert (note["Work Log Submitter"], note["Status"], note["View Access"]) == (
        "Allen",
        "Enabled",
        "Public",
    )
    orphan = ar.create("HPD:WorkLog", {"Incident Number": "INC999999999999", "Description": "x"})
    assert orphan.json()[0]["messageAppendedText"].startswith("Incident Number")


@pytest.mark.parametrize(
    "work_log_type",
    [
        "Email System",
        "Incident Task / Action",
        "Customer Follow-up",
        "Resolution Communications",
        "Vendor Communication",
        "Status Change",
    ],
)
def test_work_logs_take_the_stock_work_log_types(ar: AR, work_log_type: str) -> None:
    """HPD:WorkLog's Work Log Type is the stock selection, not just the three SMPM writes [4.4]."""
    number = ar.new_incident()
    answer = ar.create(
        "HPD:WorkLog",
        {"Incident Number": number, "Description": "x", "Work Log Type": work_log_type},
    )
    assert answer.status_code == 201, answer.text
    (note,) = ar.entries("HPD:WorkLog", q=f"'Incident Number' = \"{number}\"")
    assert note["Work Log Type"] == work_log_type


def test_work_log_types_are_stored_as_ar_numbers(ar: AR) -> None:
    """The selection's integers are AR's (8000 is General Information [4.4]); a label outside
    the stock list ("Fax" is a Reported Source, not a work log type) is refused with 306."""
    number = ar.new_incident()
    by_number = ar.create(
        "HPD:WorkLog", {"Incident Number": number, "Description": "x", "Work Log Type": 16000}
    )
    assert by_number.status_code == 201, by_number.text
    (note,) = ar.entries("HPD:WorkLog", q=f"'Incident Number' = \"{number}\"")
    assert note["Work Log Type"] == "Email System"
    unknown = ar.create(
        "HPD:WorkLog", {"Incident Number": number, "Description": "x", "Work Log Type": "Fax"}
    )
    assert unknown.json()[0]["messageNumber"] == 306


@pytest.mark.parametrize(
    ("written", "reciprocal"),
    [
        ("Duplicate of", "Original of"),
        ("Original of", "Duplicate of"),
        ("Resolved by", "Resolved"),
        ("Resolved", "Resolved by"),
        ("Caused", "Caused By"),
        ("Related to", "Related to"),
    ],
)
def test_an_incident_to_incident_link_gets_its_reciprocal_type(
    ar: AR, written: str, reciprocal: str
) -> None:
    """The related incident's row names the link as seen from there [4.4, 4.7]."""
    first, second = ar.new_incident(), ar.new_incident()
    answer = ar.create(
        "HPD:Associations",
        {
            "Request ID02": first,
            "Request ID01": second,
            "Form Name01": "HPD:Help Desk",
            "Association Type01": written,
        },
    )
    assert answer.status_code == 201, answer.text
    (theirs,) = ar.entries("HPD:Associations", q=f"'Request ID02' = \"{second}\"")
    assert (theirs["Request ID01"], theirs["Association Type01"]) == (first, reciprocal)
    assert (theirs["Form Name01"], theirs["Request Type01"]) == ("HPD:Help Desk", "Incident")


def test_problem_pending_needs_a_reason(ar: AR) -> None:
    """A problem moving to Pending needs its (misspelt) status reason field."""
    number = ar.create(
        "PBM:ProblemInterface_Create",
        {
            "z1D_Action": "PROBLEM",
            "Description": "p",
            "Impact": "3-Moderate/Limited",
            "Urgency": "3-Medium",
            "Status": "Assigned",
        },
        "values(Problem Investigation ID)",
    ).json()["values"]["Problem Investigation ID"]
    key = f"{number}|{number}"
    answer = ar.update("PBM:ProblemInterface", key, {"Investigation Status": "Pending"})
    assert answer.json()[0]["messageAppendedText"].startswith("Invesitgation Status Reason")
    ok = ar.update(
        "PBM:ProblemInterface",
        key,
        {"Investigation Status": "Pending", "Invesitgation Status Reason": "Vendor"},
    )
    assert ok.status_code == 204


def test_task_parent_must_exist(ar: AR) -> None:
    """A task's RootRequestID must name an existing ticket; its instance id is copied."""
    number = ar.new_incident()
    ok = ar.create("TMS:Task", {"Summary": "Swap disk", "RootRequestID": number}, "values(Task ID)")
    task_id = ok.json()["values"]["Task ID"]
    (task,) = ar.entries("TMS:Task", q=f"'Task ID' = \"{task_id}\"")
    assert task["RootRequestFormName"] == "HPD:Help Desk"
    assert task["RootRequestInstanceID"] == ar.incident(number)["InstanceId"]
    missing = ar.create("TMS:Task", {"Summary": "x", "RootRequestID": "INC999999999999"})
    assert missing.json()[0]["messageAppendedText"].startswith("RootRequestID")


def test_ci_relationships_need_known_cis(ar: AR) -> None:
    """A relationship names existing CIs by ReconciliationIdentity and a known class."""
    (db, app) = (
        ar.entries("BMC.CORE:BMC_BaseElement", q=f"'Name' = \"{n}\"")[0]
        for n in ("oracle-bank", "app-bank-01")
    )
    made = ar.create(
        "BMC.CORE:BMC_BaseRelationship",
        {
            "ClassId": "BMC_IMPACT",
            "Source.ReconciliationIdentity": db["ReconciliationIdentity"],
            "Destination.ReconciliationIdentity": app["ReconciliationIdentity"],
        },
    )
    assert made.status_code == 201
    bad = ar.create(
        "BMC.CORE:BMC_BaseRelationship",
        {
            "ClassId": "BMC_LIKES",
            "Source.ReconciliationIdentity": db["ReconciliationIdentity"],
            "Destination.ReconciliationIdentity": app["ReconciliationIdentity"],
        },
    )
    assert bad.json()[0]["messageAppendedText"].startswith("ClassId")


def test_services_are_also_base_elements(ar: AR) -> None:
    """Business services show on BMC_BusinessService with SITE fields, and on BMC_BaseElement."""
    (service,) = ar.entries("BMC.CORE:BMC_BusinessService", q="'Name' = \"Online Banking\"")
    assert service["SMPM Service Owner"] == "Sam"
    assert service["ClassId"] == "BMC_BUSINESSSERVICE"
    assert ar.entries("BMC.CORE:BMC_BaseElement", q="'Name' = \"Online Banking\"")
    assert not ar.entries("BMC.CORE:BMC_BusinessService", q="'Name' = \"oracle-bank\"")


def test_sla_measurements_warn_then_miss(timed: AR, clock: FakeClock) -> None:
    """A Critical Online Banking incident: Warning at half its 4 hours, Missed after them."""
    client = timed
    number = client.new_incident(
        **{"Impact": "2-Significant/Large", "Urgency": "1-Critical", "ServiceCI": "Online Banking"}
    )
    q = f"'Object ID 1' = \"{number}\" AND 'SVTTitle' LIKE \"%resolve%\""

    def status() -> str:
        (row,) = client.entries("SLM:Measurement", q=q)
        assert row["ApplicationInstanceID"] == client.incident(number)["InstanceId"]
        return str(row["MeasurementStatus"])

    assert status() == "In Process"
    clock.advance(2 * 3600)
    assert status() == "Warning"
    clock.advance(2 * 3600 + 1)
    assert status() == "Missed"


def test_sla_measurement_met_on_resolution(timed: AR, clock: FakeClock) -> None:
    """Resolving inside the goal stops the measurement as Met, with its elapsed time."""
    client = timed
    number = client.new_incident(
        **{"Impact": "2-Significant/Large", "Urgency": "1-Critical", "ServiceCI": "Online Banking"}
    )
    clock.advance(600)
    client.update(
        "HPD:IncidentInterface",
        client.incident(number)["Request ID"],
        {"Status": "Resolved", "Status_Reason": "No Further Action Required", "Resolution": "x"},
    )
    rows = client.entries("SLM:Measurement", q=f"'Object ID 1' = \"{number}\"")
    assert {r["MeasurementStatus"] for r in rows} == {"Met"}
    assert {r["OverallElapsedTime"] for r in rows} == {600}


def test_knowledge_articles(ar: AR) -> None:
    """Articles get a KBA document id; the demo has one awaiting publish approval."""
    (proposed,) = ar.entries("RKM:KnowledgeArticleManager", q="'Status' = \"Publish Approval\"")
    assert proposed["Source Request ID"].startswith("INC")
    made = ar.create(
        "RKM:KnowledgeArticleManager",
        {"ArticleTitle": "Restart the agent", "Owner Group": "Monitoring"},
        "values(DocID,Status,Author)",
    )
    assert made.json()["values"] == {
        "DocID": made.json()["values"]["DocID"],
        "Status": "Draft",
        "Author": "Allen",
    }
    assert made.json()["values"]["DocID"].startswith("KBA")
