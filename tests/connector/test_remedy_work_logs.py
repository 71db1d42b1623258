"""Work log types as Remedy stores them: every stock Work Log Type reads as an SMPM note type,
a label the mapping does not know reads as other, and writes use the three types SMPM writes
[reference 4.4].

The stock labels are those of BMC's HPD and CHG web-service WSDLs and Mid Tier's selection
(the reference's list plus the group separators and the newer system labels). The pages are the
recorded list_worklogs.json with its one entry's `Work Log Type` replaced; nothing else changes.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.entities import RecordKind, WorkNote
from connector.enums import NoteType
from connector.filters import Field
from connector.remedy import RemedyConnector
from tests.conftest import recorded
from tests.connector.conftest import REMEDY_URL, login_ok

ENTRY = f"{REMEDY_URL}/api/arsys/v1/entry"
PARENT = "INC000010381027"  # the recorded entry's incident

CUSTOMER, WORKING, GENERAL, OTHER = (
    NoteType.CUSTOMER_COMMUNICATION,
    NoteType.WORKING_LOG,
    NoteType.GENERAL,
    NoteType.OTHER,
)
STOCK = [
    # ----- Customer Inbound -----
    ("Customer Communication", CUSTOMER),
    ("Customer Follow-up", CUSTOMER),
    ("Customer Status Update", CUSTOMER),
    # ----- Customer Outbound -----
    ("Closure Follow Up", CUSTOMER),
    ("Detail Clarification", CUSTOMER),
    ("General Information", GENERAL),
    ("Resolution Communications", CUSTOMER),
    ("Satisfaction Survey", CUSTOMER),
    ("Status Update", CUSTOMER),
    # ----- General -----
    ("Incident Task / Action", WORKING),
    ("Problem Script", WORKING),
    ("Working Log", WORKING),
    ("Email System", WORKING),
    ("Paging System", WORKING),
    ("BMC Impact Manager Update", WORKING),
    ("Chat", WORKING),
    # ----- Vendor ----- and -----System-----: no SMPM type of their own
    ("Vendor Communication", OTHER),
    ("Assignment Change", OTHER),
    ("Status Change", OTHER),
    ("Note from Vendor", OTHER),
    # a group separator, and a label a site added
    ("----- General -----", OTHER),
    ("Tier 1 Audit - Quality", OTHER),
]


def worklog_page(*types: str) -> dict[str, Any]:
    """The recorded page with one entry per type: the recorded entry, its type replaced."""
    page = recorded("remedy", "list_worklogs.json")
    (entry,) = page["entries"]
    page["entries"] = []
    for n, work_log_type in enumerate(types, 1):
        copied = copy.deepcopy(entry)
        copied["values"]["Work Log Type"] = work_log_type
        copied["values"]["Work Log ID"] = f"WLG{n:08d}"
        page["entries"].append(copied)
    return page


def notes(remedy: RemedyConnector) -> list[WorkNote]:
    where = Field("parent_id") == PARENT
    return list(remedy.find(WorkNote, where, within=RecordKind.INCIDENT))


def q(call: responses.Call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["q"][0]


@pytest.mark.parametrize(("label", "expected"), STOCK, ids=[label for label, _ in STOCK])
def test_every_stock_work_log_type_reads_as_a_note_type(
    mocked: responses.RequestsMock, remedy: RemedyConnector, label: str, expected: NoteType
) -> None:
    """An "Email System" or "Incident Task / Action" entry no longer fails the listing."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:WorkLog", json=worklog_page(label))
    (note,) = notes(remedy)
    assert (note.parent_id, note.note_type, note.author) == (PARENT, expected, "xsoar")


def test_one_unknown_entry_does_not_fail_the_others(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """A listing mixing known and unknown types reads every entry, in order."""
    login_ok(mocked)
    mocked.get(
        f"{ENTRY}/HPD:WorkLog",
        json=worklog_page("Email System", "Fax", "Customer Communication"),
    )
    assert [n.note_type for n in notes(remedy)] == [WORKING, OTHER, CUSTOMER]


def test_a_type_filter_asks_for_every_label_that_reads_as_that_type(
    mocked: responses.RequestsMock, remedy: RemedyConnector
) -> None:
    """Incident Request Closure asks for customer communications: every customer label is asked
    for, so the filter and the listing agree; other asks for the labels the mapping lacks."""
    login_ok(mocked)
    mocked.get(f"{ENTRY}/HPD:WorkLog", json=worklog_page())
    for note_type in (CUSTOMER, GENERAL, OTHER):
        where = (Field("note_type") == note_type) & (Field("parent_id") == PARENT)
        list(remedy.find(WorkNote, where, within=RecordKind.INCIDENT))
    customer, general, other = (q(call) for call in mocked.calls[1:])
    labels = [label for label, kind in STOCK if kind is CUSTOMER]
    assert customer == (
        "(("
        + " OR ".join(f"'Work Log Type' = \"{label}\"" for label in labels)
        + ") AND 'Incident Number' = \"INC000010381027\")"
    )
    assert general.startswith("('Work Log Type' = \"General Information\" AND ")
    assert other.startswith("(NOT (('Work Log Type' = \"General Information\" OR ")
    assert '"Chat"' in other and '"Vendor Communication"' not in other


@pytest.mark.parametrize(
    ("note_type", "written"),
    [
        (GENERAL, "General Information"),
        (WORKING, "Working Log"),
        (CUSTOMER, "Customer Communication"),
        (OTHER, "General Information"),
    ],
    ids=["general", "working_log", "customer_communication", "other"],
)
def test_writes_use_the_types_smpm_notes_need(
    mocked: responses.RequestsMock, remedy: RemedyConnector, note_type: NoteType, written: str
) -> None:
    """New work logs carry one of the three labels SMPM writes; other is never a label."""
    login_ok(mocked)
    mocked.post(f"{ENTRY}/HPD:WorkLog", status=201)
    remedy.add_note(
        WorkNote(
            parent_kind=RecordKind.INCIDENT, parent_id=PARENT, text="noted", note_type=note_type
        )
    )
    assert json.loads(mocked.calls[1].request.body)["values"]["Work Log Type"] == written
