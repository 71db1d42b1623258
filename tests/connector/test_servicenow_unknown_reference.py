"""A name written to a ServiceNow reference that no record holds: a typed, final refusal.

ServiceNow keeps an incident's CI as a reference to a cmdb_ci record [reference 1.3]; smpm
looks the name up before writing (`connector.servicenow.refs`). A name no record holds is
`UnknownReference` (a `Rejected`, so final), naming the SMPM field, the table, the column and
the value, so a procedure can tell a CI missing from the CMDB from any other refusal, and a
mapping mistake elsewhere is still a loud error rather than a reference silently dropped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.entities import IncidentRequest
from connector.errors import FinalError, Rejected, UnknownReference
from connector.servicenow import ServiceNowConnector
from tests.conftest import recorded
from tests.connector.conftest import SN_URL

TABLE = f"{SN_URL}/api/now/table"
EMPTY: dict[str, Any] = {"result": []}  # a list no record matches [reference 1.2]


def query(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def recorded_ci() -> dict[str, str]:
    """A CI as a recorded body references it: the first change task's cmdb_ci (display_value=all
    shape: its name is the display value, its sys_id the value)."""
    task = recorded("servicenow", "get_tasks_for_co_command.json")["result"][0]
    return {"sys_id": task["cmdb_ci"]["value"], "name": task["cmdb_ci"]["display_value"]}


def test_a_ci_the_cmdb_lacks_is_an_unknown_reference(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The lookup finds no cmdb_ci named db-node-99: UnknownReference naming incident.ci,
    cmdb_ci, name and the value; it is final, and nothing is POSTed."""
    mocked.get(f"{TABLE}/cmdb_ci", json=EMPTY, headers={"X-Total-Count": "0"})
    with pytest.raises(UnknownReference) as caught:
        sn.create(IncidentRequest(summary="[availability] down", ci="db-node-99"))
    error = caught.value
    assert (error.field, error.table, error.column, error.value) == (
        "incident.ci",
        "cmdb_ci",
        "name",
        "db-node-99",
    )
    assert isinstance(error, Rejected) and isinstance(error, FinalError)
    assert str(error) == "ServiceNow incident.ci: no record in cmdb_ci with name = 'db-node-99'"
    [lookup] = mocked.calls
    assert query(lookup)["sysparm_query"] == "name=db-node-99^ORDERBYsys_id"
    assert lookup.request.method == "GET"


def test_a_ci_the_cmdb_holds_is_written_as_its_sys_id(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """The same write with a CI the CMDB holds (a recorded one) sends its sys_id in cmdb_ci."""
    ci = recorded_ci()
    mocked.get(f"{TABLE}/cmdb_ci", json={"result": [ci]}, headers={"X-Total-Count": "1"})
    mocked.post(
        f"{TABLE}/incident",
        json={"result": {"sys_id": "f" * 32, "number": "INC0010001", "cmdb_ci.name": ci["name"]}},
        status=201,
    )
    mocked.get(
        f"{TABLE}/incident/{'f' * 32}",
        json={"result": {"sys_id": "f" * 32, "number": "INC0010001", "cmdb_ci": ci["sys_id"]}},
    )
    sn.create(IncidentRequest(summary="[availability] down", ci=ci["name"]))
    post = next(c for c in mocked.calls if c.request.method == "POST")
    assert f'"cmdb_ci": "{ci["sys_id"]}"' in post.request.body.decode()


def test_a_name_several_records_hold_is_rejected_not_unknown(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Two CIs of one name are not a CI missing from the CMDB: a plain Rejected."""
    twins = [{"sys_id": "a" * 32, "name": "db-node-07"}, {"sys_id": "b" * 32, "name": "db-node-07"}]
    mocked.get(f"{TABLE}/cmdb_ci", json={"result": twins}, headers={"X-Total-Count": "2"})
    with pytest.raises(Rejected, match="several records") as caught:
        sn.create(IncidentRequest(summary="[availability] down", ci="db-node-07"))
    assert not isinstance(caught.value, UnknownReference)


def test_an_unknown_group_is_an_unknown_reference_too(
    mocked: responses.RequestsMock, sn: ServiceNowConnector
) -> None:
    """Every reference name is checked the same way: a group no record has is refused by name
    (never dropped), so a mapping or rule-table mistake stays visible."""
    mocked.get(f"{TABLE}/sys_user_group", json=EMPTY, headers={"X-Total-Count": "0"})
    with pytest.raises(UnknownReference) as caught:
        sn.create(IncidentRequest(summary="x", assigned_group="Nobody"))
    assert (caught.value.field, caught.value.value) == ("incident.assigned_group", "Nobody")
    assert all(c.request.method == "GET" for c in mocked.calls)
