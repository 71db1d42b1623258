"""`smpm check` on ServiceNow: every mapped table and column, looked up in the dictionary."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from connector.errors import Unavailable
from connector.servicenow import ServiceNowConnector
from connector.servicenow.check import check_tables, tables_in_use
from mappings.loader import PlatformMapping
from tests.connector.conftest import FakeClock, Sleeps, sn_options
from tests.connector.test_servicenow_records import TABLE

PARENT = {"task": "", "incident": "task", "sys_user_group": ""}  # sys_db_object.super_class
COLUMNS = {
    "task": {"number", "short_description", "assignment_group", "sys_created_on"},
    "incident": {"caller_id"},
    "sys_user_group": {"name"},
}
MAPPING = {
    "platform": "servicenow",
    "kinds": {
        "incident": {
            "form": "incident",
            "fields": {
                "id": "number",
                "platform_id": "sys_id",
                "summary": "short_description",
                "created_at": "sys_created_on",
                "assigned_group": "assignment_group.name",
                "customer": "caller_id.user_name",
                "event_key": "u_event_key",
            },
            "references": {"assigned_group": "sys_user_group", "customer": "sys_user"},
        }
    },
    "enums": {},
}


def dictionary(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """A tiny instance: sys_db_object and sys_dictionary answering the connector's queries."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
    query = params["sysparm_query"]
    if "/sys_db_object" in str(request.url):
        found = re.match(r"name=([a-z_]+)\^", query)
        assert found, query
        name = found.group(1)
        rows: list[dict[str, Any]] = (
            [{"sys_id": name, "name": name, "super_class.name": PARENT[name]}]
            if name in PARENT
            else []
        )
    else:
        found = re.match(r"name(?:IN|=)([a-z_,]+)\^element(?:IN|=)([a-z_,]+)\^", query)
        assert found, query
        tables, elements = found.group(1).split(","), found.group(2).split(",")
        rows = [
            {"sys_id": f"{t}.{e}", "name": t, "element": e}
            for t in tables
            for e in elements
            if e in COLUMNS.get(t, ())
        ]
    offset, limit = int(params["sysparm_offset"]), int(params["sysparm_limit"])
    page = rows[offset : offset + limit]
    return 200, {"X-Total-Count": str(len(rows))}, json.dumps({"result": page})


@pytest.fixture
def small(
    mocked: responses.RequestsMock, clock: FakeClock, sleeps: Sleeps
) -> Iterator[ServiceNowConnector]:
    mapping = PlatformMapping.model_validate(MAPPING)
    connector = ServiceNowConnector(sn_options(sleeps, clock), mapping)
    for table in ("sys_db_object", "sys_dictionary"):
        mocked.add_callback(responses.GET, f"{TABLE}/{table}", callback=dictionary)
    yield connector
    connector.close()


def test_missing_columns_and_tables_are_named(small: ServiceNowConnector) -> None:
    """Inherited columns count (number is on task); a missing column and table are reported."""
    results = {r.form: r for r in check_tables(small)}

    incident = results["incident"]
    assert incident.missing == ["u_event_key"]
    assert incident.fields == [
        "number",
        "short_description",
        "sys_created_on",
        "assignment_group",
        "caller_id",
        "u_event_key",
    ]
    assert results["sys_user_group"].ok
    assert results["sys_user_group"].purpose == "looking up incident.assigned_group"
    assert results["sys_user"].error is not None
    assert "does not exist" in results["sys_user"].error


def test_the_dictionary_is_asked_once_per_table(
    mocked: responses.RequestsMock, small: ServiceNowConnector
) -> None:
    """One sys_db_object read per ancestor, one sys_dictionary query per table (paged)."""
    list(check_tables(small))
    paths = [urlsplit(c.request.url).path.rsplit("/", 1)[-1] for c in mocked.calls]
    assert paths.count("sys_db_object") == 4  # incident, task, sys_user_group, sys_user
    first = parse_qs(urlsplit(mocked.calls[2].request.url).query)["sysparm_query"][0]
    assert first.startswith("nameINincident,task^elementINnumber,short_description,")


def test_a_dictionary_the_user_may_not_read_is_reported_per_table(
    mocked: responses.RequestsMock, small: ServiceNowConnector
) -> None:
    """403 on sys_dictionary: the table's check carries the ACL message; others go on."""
    acl = {"error": {"message": "Insufficient rights to query records"}, "status": "failure"}
    mocked.replace(responses.GET, f"{TABLE}/sys_dictionary", status=403, json=acl)
    results = list(check_tables(small))
    assert results[0].error is not None
    assert "Insufficient rights" in results[0].error


def test_an_unreachable_instance_stops_the_check(
    mocked: responses.RequestsMock, small: ServiceNowConnector
) -> None:
    """Connection problems are not a table's fault: they propagate to the command."""
    mocked.replace(responses.GET, f"{TABLE}/sys_db_object", status=503, body="down")
    with pytest.raises(Unavailable):
        list(check_tables(small))


def test_the_builtin_mapping_names_its_tables(servicenow_mapping: PlatformMapping) -> None:
    """Journal columns on parents, the SLA's own columns, lookups and relation tables."""
    tables = tables_in_use(servicenow_mapping)
    assert {"work_notes", "comments", "problem_id", "caller_id"} <= set(tables["incident"][1])
    assert {"stage", "has_breached", "business_percentage"} <= set(tables["task_sla"][1])
    assert tables["sys_journal_field"][1] == [
        "sys_created_on",
        "value",
        "sys_created_by",
        "element",
        "element_id",
        "name",
    ]
    assert tables["cmdb_rel_type"] == ("relation types", ["name"])
    assert tables["sys_user"][0] == "person records"
    assert "known_error" in tables["problem"][1]
