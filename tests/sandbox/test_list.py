"""Listing and reading entries: shapes against the recorded bodies, paging, q, sort, fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox import Sandbox
from tests.sandbox.support import AR, recorded

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")


@pytest.fixture(scope="module")
def demo() -> Iterator[AR]:
    """A demo sandbox nobody adds to, so queries can be checked against the whole table."""
    with Sandbox.start(seed="demo") as running:
        yield AR(running.base_url)


def test_incident_record_has_the_recorded_field_set(ar: AR) -> None:
    """Without `fields`, HPD:IncidentInterface returns every field of the recorded record."""
    body = ar.list("HPD:IncidentInterface", limit=1).json()
    ours = set(body["entries"][0]["values"])
    theirs = set(recorded("get_incident")["entries"][0]["values"])
    assert theirs <= ours
    assert ours - theirs == {"Re-Opened Date"}  # read by the Remedy mapping [4.3]


@pytest.mark.parametrize(
    ("form", "fixture"),
    [
        ("PBM:ProblemInterface", "get_prob"),
        ("PBM:KnownErrorInterface", "get_known_error"),
        ("CTM:Support Group", "list_support_group"),
    ],
)
def test_other_recorded_field_sets(ar: AR, form: str, fixture: str) -> None:
    """Problem, known-error and support-group records carry every recorded field."""
    if form == "PBM:KnownErrorInterface":
        ar.create(
            "PBM:ProblemInterface_Create",
            {
                "z1D_Action": "KNOWNERROR",
                "Description": "KE",
                "Impact": "4-Minor/Localized",
                "Urgency": "4-Low",
                "Known Error Status": "Assigned",
            },
        )
    ours = set(ar.list(form, limit=1).json()["entries"][0]["values"])
    theirs = set(recorded(fixture)["entries"][0]["values"])
    assert theirs <= ours, theirs - ours


def test_list_shape_matches_the_recorded_paging_body(ar: AR, sandbox: Sandbox) -> None:
    """A page has `entries` and `_links` with `self` and `next` arrays of hrefs, as recorded."""
    body = ar.list("CTM:Support Group", limit=2).json()
    fixture = recorded("list_support_group")
    assert body.keys() == fixture.keys()
    assert body["_links"].keys() == fixture["_links"].keys()
    entry = body["entries"][0]
    assert entry.keys() == fixture["entries"][0].keys()
    base = f"{sandbox.base_url}/api/arsys/v1/entry/CTM:Support%20Group"
    assert body["_links"]["self"] == [{"href": f"{base}?limit=2"}]
    assert body["_links"]["next"] == [{"href": f"{base}?offset=2&limit=2"}]
    group_id = entry["values"]["Support Group ID"]
    assert entry["_links"] == {"self": [{"href": f"{base}/{group_id}"}]}


def test_dates_and_enums_are_written_like_ar(ar: AR) -> None:
    """Dates are `2022-06-21T11:08:05.000+0000`, enums labels, Status-History an object."""
    values = ar.entries("HPD:IncidentInterface", limit=1)[0]
    assert DATE.match(values["Submit Date"])
    assert values["Status"] in ("New", "Assigned", "In Progress", "Pending", "Resolved")
    assert set(values["Status-History"][values["Status"]]) == {"user", "timestamp"}
    assert DATE.match(values["Status-History"][values["Status"]]["timestamp"])


def test_join_ids_and_links(ar: AR, sandbox: Sandbox) -> None:
    """Request ID is `ID|ID` on the joins; problem links encode the bar as %7C."""
    incident = ar.entries("HPD:IncidentInterface", limit=1)[0]
    assert incident["Request ID"] == f"{incident['Entry ID']}|{incident['Entry ID']}"
    body = ar.list("PBM:ProblemInterface", limit=1).json()
    problem = body["entries"][0]
    number = problem["values"]["Problem Investigation ID"]
    assert problem["values"]["Request ID"] == f"{number}|{number}"
    assert problem["_links"]["self"][0]["href"] == (
        f"{sandbox.base_url}/api/arsys/v1/entry/PBM:ProblemInterface/{number}%7C{number}"
    )


def test_incident_links_name_the_entry_id(ar: AR, sandbox: Sandbox) -> None:
    """As in get_incident.json, the incident self link names the Entry ID alone."""
    entry = ar.list("HPD:IncidentInterface", limit=1).json()["entries"][0]
    entry_id = entry["values"]["Entry ID"]
    assert entry["_links"]["self"][0]["href"] == (
        f"{sandbox.base_url}/api/arsys/v1/entry/HPD:IncidentInterface/{entry_id}"
    )


def test_get_one_entry_by_join_id_or_entry_id(ar: AR) -> None:
    """GET by `ID|ID` (or the bare Entry ID) answers `{values, _links}` without `entries`."""
    incident = ar.entries("HPD:IncidentInterface", limit=1)[0]
    for key in (incident["Request ID"], incident["Entry ID"]):
        body = ar.get("HPD:IncidentInterface", key).json()
        assert body.keys() == {"values", "_links"}
        assert body["values"]["Incident Number"] == incident["Incident Number"]


def test_paging_follows_next_until_absent(ar: AR) -> None:
    """Following `_links.next` visits every row once; the last page has no `next`."""
    total = len(ar.entries("CTM:People", limit=500))
    seen, pages = [], 0
    url: str | None = ar.url("CTM:People") + "?limit=4&sort=Person%20ID.asc"
    while url:
        body = ar.http.get(url, timeout=10).json()
        seen += [e["values"]["Person ID"] for e in body["entries"]]
        pages += 1
        url = body["_links"].get("next", [{}])[0].get("href")
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)
    assert pages == -(-total // 4)


def test_next_link_echoes_the_other_parameters(ar: AR) -> None:
    """The next link carries offset and limit and repeats q, fields and sort."""
    params = {
        "q": "'Profile Status' = \"Enabled\"",
        "fields": "values(Person ID,Full Name)",
        "sort": "Person ID.desc",
        "limit": 3,
    }
    body = ar.list("CTM:People", **params).json()
    query = parse_qs(urlsplit(body["_links"]["next"][0]["href"]).query)
    assert query == {
        "offset": ["3"],
        "limit": ["3"],
        "q": [params["q"]],
        "fields": [params["fields"]],
        "sort": [params["sort"]],
    }
    assert "'" not in body["_links"]["self"][0]["href"]


def test_default_and_maximum_page_sizes(ar: AR, sandbox: Sandbox) -> None:
    """No limit means 100 rows; a limit above 2000 is capped at 2000."""
    sandbox.generate_incidents(2100, seed=3)
    assert len(ar.entries("HPD:IncidentInterface", fields="values(Incident Number)")) == 100
    body = ar.list("HPD:IncidentInterface", fields="values(Incident Number)", limit=5000).json()
    assert len(body["entries"]) == 2000
    assert "limit=2000" in body["_links"]["next"][0]["href"]


def test_fields_selects_by_name_or_id(ar: AR) -> None:
    """`fields=values(...)` returns exactly the named fields (ids allowed), nulls included."""
    values = ar.entries(
        "HPD:IncidentInterface", limit=1, fields="values(Incident Number,1000000162,Closed Date)"
    )[0]
    assert set(values) == {"Incident Number", "Urgency", "Closed Date"}


OPERATOR_CASES = [
    ("'Urgency' = \"1-Critical\"", lambda v: v["Urgency"] == "1-Critical"),
    ("'Urgency' != \"1-Critical\"", lambda v: v["Urgency"] != "1-Critical"),
    ("'Urgency' <> \"1-Critical\"", lambda v: v["Urgency"] != "1-Critical"),
    ("'Status' < \"Pending\"", lambda v: v["Status"] in ("New", "Assigned", "In Progress")),
    ("'Status' < 2", lambda v: v["Status"] in ("New", "Assigned")),
    ("'Status' >= \"Resolved\"", lambda v: v["Status"] in ("Resolved", "Closed", "Cancelled")),
    ("'Priority' <= \"High\"", lambda v: v["Priority"] in ("Critical", "High")),
    ("'Priority' > \"High\"", lambda v: v["Priority"] in ("Medium", "Low")),
    ("'Assigned Group' = $NULL$", lambda v: v["Assigned Group"] is None),
    ("'Assigned Group' != $NULL$", lambda v: v["Assigned Group"] is not None),
    ("'Assigned Group' != \"Service Desk\"", lambda v: v["Assigned Group"] != "Service Desk"),
    ("NOT ('Assigned Group' = \"Service Desk\")", lambda v: v["Assigned Group"] != "Service Desk"),
    ("'Description' LIKE \"%on%\"", lambda v: "on" in v["Description"]),
    ("'Description' LIKE \"Pa_ro%\"", lambda v: re.match("Pa.ro", v["Description"])),
    ("'Description' LIKE \"[OP]%\"", lambda v: v["Description"][0] in "OP"),
    (
        "('Status' = \"New\" AND 'Assigned Group' = $NULL$)",
        lambda v: v["Status"] == "New" and v["Assigned Group"] is None,
    ),
    (
        "'Status' = \"New\" OR 'Status' = \"Pending\" && 'Urgency' = \"2-High\"",
        lambda v: v["Status"] == "New" or (v["Status"] == "Pending" and v["Urgency"] == "2-High"),
    ),
    ("! 'Impact' = \"4-Minor/Localized\"", lambda v: v["Impact"] != "4-Minor/Localized"),
    ("'1000000163' = 2000", lambda v: v["Impact"] == "2-Significant/Large"),
]


@pytest.mark.parametrize(("q", "check"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES])
def test_qualification_operators(demo: AR, q: str, check: object) -> None:
    """Each operator selects exactly the demo incidents a direct check selects."""
    client = demo
    fields = "values(Incident Number,Status,Urgency,Impact,Priority,Assigned Group,Description)"
    everything = client.entries("HPD:IncidentInterface", fields=fields, limit=1000)
    found = client.entries("HPD:IncidentInterface", q=q, fields=fields, limit=1000)
    expected = [v for v in everything if check(v)]  # type: ignore[operator]
    assert found == expected
    assert 0 < len(found) < len(everything)


def test_dates_compare_as_epoch_strings(demo: AR) -> None:
    """`'Submit Date' > "<epoch>"` and an unquoted epoch select by time, as clients send them."""
    client = demo
    rows = client.entries("HPD:IncidentInterface", fields="values(Incident Number,Submit Date)")
    epochs = sorted(
        int(datetime.strptime(r["Submit Date"], "%Y-%m-%dT%H:%M:%S.000%z").timestamp())
        for r in rows
    )
    middle = epochs[len(epochs) // 2]
    later = client.entries("HPD:IncidentInterface", q=f"'Submit Date' > \"{middle}\"")
    assert len(later) == sum(e > middle for e in epochs)
    iso = datetime.fromtimestamp(middle, UTC).isoformat()
    same = client.entries("HPD:IncidentInterface", q=f"'Submit Date' <= {middle}")
    assert len(same) == sum(e <= middle for e in epochs)
    assert client.entries("HPD:IncidentInterface", q=f"'Submit Date' <= \"{iso}\"") == same


def test_quotes_inside_values(ar: AR) -> None:
    """Doubled quotes find values holding quotes; a value cannot widen the query."""
    number = ar.new_incident(Description='Printer "Bobby" can\'t print')
    found = ar.entries(
        "HPD:IncidentInterface", q='\'Description\' = "Printer ""Bobby"" can\'t print"'
    )
    assert [v["Incident Number"] for v in found] == [number]
    injected = ar.entries("HPD:IncidentInterface", q='\'Description\' = "x"" OR ""1""=""1"')
    assert injected == []


def test_like_with_bracketed_wildcards(ar: AR) -> None:
    """`[%]` and `[_]` match the literal characters, as the renderer escapes them."""
    number = ar.new_incident(Description="disk 100% full on vol_1")
    ar.new_incident(Description="disk 100 full on vol1")
    found = ar.entries("HPD:IncidentInterface", q="'Description' LIKE \"%100[%] full on vol[_]1%\"")
    assert [v["Incident Number"] for v in found] == [number]


def test_sort_by_several_fields(demo: AR) -> None:
    """`sort=A.desc,B.asc` orders by A descending, then B ascending."""
    client = demo
    rows = client.entries(
        "HPD:IncidentInterface",
        sort="Priority.desc,Incident Number.asc",
        fields="values(Priority,Incident Number)",
    )
    order = ["Critical", "High", "Medium", "Low"]
    keys = [(-order.index(r["Priority"]), r["Incident Number"]) for r in rows]
    assert keys == sorted(keys)


def test_version_one_dot_zero_path(ar: AR, sandbox: Sandbox) -> None:
    """`/api/arsys/v1.0/...` works as `/v1/` does, and its links say v1.0."""
    body = ar.http.get(f"{sandbox.base_url}/api/arsys/v1.0/entry/COM:Company", timeout=10).json()
    assert "/api/arsys/v1.0/entry/COM:Company/" in body["entries"][0]["_links"]["self"][0]["href"]


def test_fields_endpoint(ar: AR, sandbox: Sandbox) -> None:
    """`/fields/{form}` lists ids, names, data types and selection labels."""
    listed = ar.http.get(
        f"{sandbox.base_url}/api/arsys/v1/fields/HPD:IncidentInterface", timeout=10
    ).json()
    urgency = next(f for f in listed if f["name"] == "Urgency")
    assert urgency["id"] == 1000000162
    assert urgency["selection_values"] == ["1-Critical", "2-High", "3-Medium", "4-Low"]
